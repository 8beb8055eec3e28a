"""Writing a file so that it is either the old one or the new one, never half of each.

The bytes go to a temp file beside the target, are fsynced, then renamed over
it. Temp names carry a marker and the writer's pid
(``.<name>.s2sbench-<pid>-<random>.tmp``), so the clean-up after a killed run
removes exactly those, and only once their writer is gone -- never a user's own
``.something.tmp``. Results, score stores, datasets, transcripts and cache
entries are all written through :func:`write_atomic`.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from s2sbench.core.errors import StoreError

TEMP_MARK = "s2sbench"
# mkstemp's random part: 8 characters of [a-z0-9_].
TEMP_NAME = re.compile(rf"^\.(?P<target>.+)\.{TEMP_MARK}-(?P<pid>\d+)-[a-z0-9_]{{8}}\.tmp$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a temp file beside ``path``, fsync it, rename it over ``path``."""
    write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, then rename over ``path``.

    A writer killed mid-write leaves only a temp file (removed later by
    :func:`remove_stale_temps`), never a truncated file under the final name,
    so "the file exists" means "the file is whole".
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.{TEMP_MARK}-{os.getpid()}-", suffix=".tmp", dir=path.parent
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
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
