"""Atomic writes: a results file is either the old one or the new one, never half of each."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from s2sbench.errors import StoreError

TEMP_PATTERN = ".*.tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def output_file(root: Path, *parts: str) -> Path:
    """``root / parts...``, checked to stay inside the output folder ``root``.

    Every file s2sbench writes under ``--output-path`` goes through here
    (results, samples, summaries, reports): a name built from data (a task
    name, a condition, a label) must not carry ``/`` or ``..`` out of it, and
    a symlinked folder inside it must not lead out either.
    """
    root = Path(root)
    for part in parts:
        pieces = Path(part).parts
        if not part or Path(part).is_absolute() or ".." in pieces or "\0" in part:
            raise StoreError(
                f"output file name {part!r} would leave the output folder {root}",
                hint="task names and labels must be plain names (letters, digits, _ . -)",
            )
    path = root.joinpath(*parts)
    real_root = root.resolve()
    real = path.resolve()
    if real != real_root and real_root not in real.parents:
        raise StoreError(
            f"output file {path} resolves to {real}, outside the output folder {root}",
            hint="remove the symlink, or choose another --output-path",
        )
    return path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temp file beside ``path``, fsync it, then rename over ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are meant to be shared
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StoreError(
            f"cannot write {path} ({exc.strerror})",
            hint="free disk space or fix permissions; the previous file is unchanged",
        ) from None


def lock_directory(directory: Path, lock_name: str, writer: str) -> IO[str]:
    """Hold ``directory``'s lock file, or refuse: two writers would interleave their files.

    ``writer`` names who holds it in the message ("run", "sweep"). Release with
    :func:`unlock`.
    """
    try:
        handle = open(Path(directory) / lock_name, "a+")  # noqa: SIM115
    except OSError as exc:
        raise StoreError(
            f"cannot write to the {writer} directory {directory} ({exc.strerror})",
            hint="choose a writable --output-path",
        ) from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise StoreError(
            f"another s2sbench {writer} is writing {directory}",
            hint="wait for it to finish or use another --output-path",
        ) from None
    return handle


def unlock(handle: IO[str]) -> None:
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    handle.close()


def remove_stale_temps(directory: Path) -> list[Path]:
    """Delete the temp files a killed writer left in ``directory`` (call it holding its lock)."""
    stale = sorted(Path(directory).glob(TEMP_PATTERN))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
