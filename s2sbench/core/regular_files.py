"""Opening dataset files safely: regular files only, with a size cap where one makes sense.

Dataset files (JSONL, task YAML, CSV, WAV, manifests, parquet) come from
strangers. Opening a FIFO named ``2.wav`` blocks forever waiting for a
writer, and a character device such as ``/dev/zero`` never ends, so every
reader opens its file here: without blocking, then ``fstat`` on the open
descriptor (no window between the check and the open), and only a regular
file (a symlink to one is fine) is read. Libraries that take a path
(soundfile, pyarrow) get :func:`require_regular_file` first.

Files s2sbench reads or appends to in an *output* directory (the score store,
an earlier results.json, the lock) go through :func:`open_regular_fd` and
:func:`read_regular`, which also refuse a symlink: a link there would redirect
a write onto a file the user never named; they raise ``StoreError``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from s2sbench.core.errors import DataError, StoreError

NOT_REGULAR_HINT = "give a regular file (not a FIFO, device, socket or directory)"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_found(path: Path, what: str, hint: str | None) -> DataError:
    return DataError.at(path, None, f"{what} not found", hint)


def open_regular(path: Path, what: str = "file", hint: str | None = None) -> BinaryIO:
    """``path`` opened for binary reading, or a one-line error if it is not a regular file."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _not_found(path, what, hint) from None
    except IsADirectoryError:
        raise DataError.at(path, None, f"{what} is a directory", NOT_REGULAR_HINT) from None
    except OSError as exc:
        raise DataError.at(path, None, f"cannot open {what} ({exc.strerror})", hint) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise DataError.at(path, None, f"{what} is {_kind(mode)}", NOT_REGULAR_HINT)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_regular_bytes(
    path: Path, what: str = "file", max_bytes: int | None = None, hint: str | None = None
) -> bytes:
    """The bytes of the regular file ``path``; more than ``max_bytes`` is an error, not a read."""
    with open_regular(path, what, hint) as handle:
        if max_bytes is None:
            return handle.read()
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DataError.at(
            path,
            None,
            f"{what} is larger than {max_bytes:,} bytes",
            "this is not the file you meant: check the path",
        )
    return data


def require_regular_file(path: Path, what: str = "file", hint: str | None = None) -> None:
    """Refuse anything but an existing regular file before a library opens ``path`` itself."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise _not_found(path, what, hint) from None
    except OSError as exc:
        raise DataError.at(path, None, f"cannot open {what} ({exc.strerror})", hint) from None
    if not stat.S_ISREG(mode):
        raise DataError.at(path, None, f"{what} is {_kind(mode)}", NOT_REGULAR_HINT)


# --- output side: files s2sbench reads or appends to in an output directory -----------------
# Opened without following symlinks (a link would redirect a write onto a file the user
# never named) and only when regular (a FIFO would hang the run).
OUTPUT_NOT_REGULAR_HINT = (
    "move it away or choose another --output-path; s2sbench uses only regular files"
)


def _output_kind(mode: int) -> str:
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
    what = f"is {_output_kind(mode)}, not a regular file"
    return StoreError(what, where=str(path), hint=OUTPUT_NOT_REGULAR_HINT)


def open_regular_fd(path: Path, flags: int, mode: int = 0o666) -> int:
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
        fd = open_regular_fd(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise StoreError(
            f"cannot read {path} ({exc.strerror})", hint=OUTPUT_NOT_REGULAR_HINT
        ) from None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def check_replaceable(path: Path) -> None:
    """Refuse, before any work, a target that is there but is not a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if not stat.S_ISREG(mode):
        raise not_regular(Path(path), mode)
