"""How many CPU cores this process may use (its affinity mask, not the machine's count).

A job scheduler or container often pins a process to a few cores of a large machine;
starting one thread or worker per *machine* core there oversubscribes the few it has.
"""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores this process may run on (at least 1)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no affinity mask
        return os.cpu_count() or 1
