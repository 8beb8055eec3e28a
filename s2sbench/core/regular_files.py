"""Opening dataset files safely: regular files only, with a size cap where one makes sense.

Dataset files (JSONL, task YAML, CSV, WAV, manifests, parquet) come from
strangers. Opening a FIFO named ``2.wav`` blocks forever waiting for a
writer, and a character device such as ``/dev/zero`` never ends, so every
reader opens its file here: without blocking, then ``fstat`` on the open
descriptor (no window between the check and the open), and only a regular
file (a symlink to one is fine) is read. Libraries that take a path
(soundfile, pyarrow) get :func:`require_regular_file` first.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from s2sbench.errors import DataError

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
