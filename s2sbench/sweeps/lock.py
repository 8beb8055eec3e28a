"""One sweep per output directory, and the clean-up a killed sweep needs."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from s2sbench.errors import StoreError
from s2sbench.sweeps.series import SUMMARY_NAME, SWEEP_INDEX

SWEEP_LOCK = ".s2sbench-sweep.lock"


@contextmanager
def sweep_lock(root: Path) -> Iterator[None]:
    """One sweep per output directory: two would race on ``sweep.json`` and the summary.

    Holding the lock, it also removes the temp files a killed sweep left
    beside its index (``write_atomic`` writes ``.<name>.*.tmp`` then renames).
    """
    try:
        handle = open(root / SWEEP_LOCK, "a+")  # noqa: SIM115
    except OSError as exc:
        raise StoreError(f"cannot write to sweep directory {root} ({exc.strerror})") from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise StoreError(
            f"another s2sbench sweep is writing {root}",
            hint="wait for it to finish or use another --output-path",
        ) from None
    try:
        for name in (SWEEP_INDEX, SUMMARY_NAME):
            for stale in root.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()
