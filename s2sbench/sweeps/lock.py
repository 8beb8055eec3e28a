"""One sweep per output directory, and the clean-up a killed sweep needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from s2sbench.core.atomic_write import remove_stale_temps
from s2sbench.core.dir_lock import lock_directory
from s2sbench.reports.sweep_series import (
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
    beside its index (only ``write_atomic``'s own names, of a writer that is gone).
    The lock file is removed when the sweep ends.
    """
    lock = lock_directory(root, SWEEP_LOCK, "sweep")
    try:
        remove_stale_temps(root, (SWEEP_INDEX, COMBINED_SUMMARY_NAME))
        for folder in sorted(root.glob(f"{SUMMARIES_DIR}/*/")):
            remove_stale_temps(folder, (SUMMARY_NAME,))
        yield
    finally:
        lock.release()
