"""One sweep per output directory, and the clean-up a killed sweep needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from s2sbench.reports.io import lock_directory, unlock
from s2sbench.sweeps.series import (
    COMBINED_SUMMARY_NAME,
    SUMMARIES_DIR,
    SUMMARY_NAME,
    SWEEP_INDEX,
)

SWEEP_LOCK = ".s2sbench-sweep.lock"


@contextmanager
def sweep_lock(root: Path) -> Iterator[None]:
    """One sweep per output directory: two would race on ``sweep.json`` and the summary.

    Holding the lock, it also removes the temp files a killed sweep left
    beside its index (``write_atomic`` writes ``.<name>.*.tmp`` then renames).
    """
    handle = lock_directory(root, SWEEP_LOCK, "sweep")
    try:
        for name in (SWEEP_INDEX, COMBINED_SUMMARY_NAME):
            for stale in root.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)
        for stale in root.glob(f"{SUMMARIES_DIR}/*/.{SUMMARY_NAME}.*.tmp"):
            stale.unlink(missing_ok=True)
        yield
    finally:
        unlock(handle)
