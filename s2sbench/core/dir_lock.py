"""One writer per output directory: an exclusive ``flock`` on a lock file, removed when done.

The lock file is unlinked while its lock is still held, so no empty lock file
stays behind after a run. That alone would break mutual exclusion: a second
process that opened the file just before the unlink could lock the dead inode
while a third creates and locks a new file under the same name. So every
locker checks, once it holds the lock, that the path still names the inode it
locked, and starts over if not. The kernel drops a lock when its holder dies,
so a killed run never blocks its own resume (its lock file stays until then).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from s2sbench.core.errors import StoreError
from s2sbench.core.regular_files import open_regular_fd

ATTEMPTS = 50  # each retry means another process released the lock in between


def _same_file(path: Path, fd: int) -> bool:
    try:
        named = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _open_lock_file(path: Path, writer: str) -> int:
    try:
        return open_regular_fd(path, os.O_RDWR | os.O_CREAT)
    except OSError as exc:
        hint = (
            "move it away or choose another --output-path"
            if exc.errno not in (errno.EACCES, errno.EROFS, errno.ENOENT)
            else "choose a writable --output-path"
        )
        raise StoreError(
            f"cannot use the {writer} lock file ({exc.strerror})", where=str(path), hint=hint
        ) from None


@dataclass
class DirectoryLock:
    """A held directory lock; :meth:`release` removes its file and drops the lock.

    The descriptor lives in a file object, so a lock that is never released
    (an abandoned store) is still dropped when it is garbage-collected.
    """

    path: Path
    handle: IO[bytes]

    @property
    def fd(self) -> int:
        return self.handle.fileno()

    def release(self) -> None:
        """Unlink the lock file while still holding it (if it is still ours), then unlock."""
        if self.handle.closed:
            return
        try:
            if _same_file(self.path, self.fd):
                with contextlib.suppress(OSError):  # read-only: the empty file stays, harmless
                    os.unlink(self.path)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.handle.close()


def lock_directory(directory: Path, lock_name: str, writer: str) -> DirectoryLock:
    """Hold ``directory/lock_name``, or refuse: two writers would interleave their files.

    ``writer`` names who holds it in the message ("run", "sweep").
    """
    path = Path(directory) / lock_name
    for _ in range(ATTEMPTS):
        fd = _open_lock_file(path, writer)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StoreError(
                f"another s2sbench {writer} is writing {directory}",
                hint="wait for it to finish or use another --output-path",
            ) from None
        if _same_file(path, fd):
            return DirectoryLock(path, os.fdopen(fd, "rb"))
        os.close(fd)  # we locked a file its holder had just removed: lock the current one
    raise StoreError(
        f"cannot take the {writer} lock: its file keeps being replaced",
        where=str(path),
        hint="another program is deleting it; stop that program or use another --output-path",
    )
