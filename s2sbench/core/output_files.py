"""Output files: atomic writes, strict JSON, and touching only files s2sbench made.

A results file is either the old one or the new one, never half of each: it is
written to a temp file beside it, fsynced, then renamed over it. Temp names
carry a marker and the writer's pid (``.<name>.s2sbench-<pid>-<random>.tmp``),
so the clean-up after a killed run removes exactly those, and only once their
writer is gone -- never a user's own ``.something.tmp``. Files s2sbench reads
or appends to in an output directory are opened without following symlinks and
must be regular files: a FIFO would hang the run, a link would redirect a write
onto a file the user never named. JSON never holds NaN or Infinity (strict
parsers reject them): an undefined statistic is written as ``null``.
"""

from __future__ import annotations

import errno
import json
import math
import numbers
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from s2sbench.errors import StoreError

TEMP_MARK = "s2sbench"
# mkstemp's random part: 8 characters of [a-z0-9_].
TEMP_NAME = re.compile(rf"^\.(?P<target>.+)\.{TEMP_MARK}-(?P<pid>\d+)-[a-z0-9_]{{8}}\.tmp$")
NOT_REGULAR_HINT = "move it away or choose another --output-path; s2sbench uses only regular files"


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
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.{TEMP_MARK}-{os.getpid()}-", suffix=".tmp", dir=path.parent
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are meant to be shared
            os.replace(tmp, path)  # replaces a link itself, never the file it points to
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StoreError(
            f"cannot write {path} ({exc.strerror})",
            hint="free disk space or fix permissions; the previous file is unchanged",
        ) from None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def remove_stale_temps(directory: Path, targets: Iterable[str] | None = None) -> list[Path]:
    """Delete the temp files a killed s2sbench writer left in ``directory``.

    Only names ``write_atomic`` makes, only regular files, only when the pid
    in the name is no longer running (so a live writer's temp file stays), and,
    with ``targets``, only temps of those file names. Call it holding the
    directory's lock.
    """
    wanted = set(targets) if targets is not None else None
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        match = TEMP_NAME.match(entry.name)
        if not match or (wanted is not None and match["target"] not in wanted):
            continue
        if not entry.is_file(follow_symlinks=False) or _pid_alive(int(match["pid"])):
            continue
        Path(entry.path).unlink(missing_ok=True)
        removed.append(Path(entry.path))
    return sorted(removed)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device or special file"


def not_regular(path: Path, mode: int) -> StoreError:
    what = f"is {_kind(mode)}, not a regular file"
    return StoreError(what, where=str(path), hint=NOT_REGULAR_HINT)


def open_regular(path: Path, flags: int, mode: int = 0o666) -> int:
    """``os.open`` that refuses symlinks and anything but a regular file, without blocking.

    ``O_NONBLOCK`` makes a FIFO open at once (instead of waiting for a writer)
    so it can be refused; the flag means nothing for a regular file.
    """
    path = Path(path)
    extra = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags | extra, mode)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            raise
        try:
            kind = os.lstat(path).st_mode
        except OSError:
            raise exc from None
        raise not_regular(path, kind) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise not_regular(path, info.st_mode)
    return fd


def read_regular(path: Path) -> bytes | None:
    """The bytes of a regular file (never through a link, never a FIFO); None when absent."""
    try:
        fd = open_regular(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path} ({exc.strerror})", hint=NOT_REGULAR_HINT) from None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def check_output_dir(directory: Path) -> None:
    """``--output-path`` must be a directory (or not exist yet)."""
    if Path(directory).exists() and not Path(directory).is_dir():
        raise StoreError(
            f"output path {directory} is a file", hint="give a directory for --output-path"
        )


def check_replaceable(path: Path) -> None:
    """Refuse, before any work, a target that is there but is not a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if not stat.S_ISREG(mode):
        raise not_regular(Path(path), mode)


def json_safe(data: Any) -> Any:
    """``data`` with every NaN and infinity replaced by None: JSON has no such numbers."""
    if isinstance(data, numbers.Real) and not isinstance(data, numbers.Integral):
        value = float(data)  # numpy floats too
        return value if math.isfinite(value) else None
    if isinstance(data, dict):
        return {key: json_safe(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(value) for value in data]
    return data


def json_text(data: Any, indent: int | None = None) -> str:
    """Strict JSON (``allow_nan=False``) of ``json_safe(data)``."""
    return json.dumps(
        json_safe(data), indent=indent, ensure_ascii=False, default=str, allow_nan=False
    )


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json_text(data, indent=2) + "\n")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    write_atomic(path, "".join(json_text(r) + "\n" for r in rows))
