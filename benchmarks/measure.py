"""Interleaved timing and peak memory of scoring methods, for ``bench_scoring.py``.

Methods run ``rounds`` times in a rotating order, so every method sees the same
machine load; other jobs can only add time, so each method's fastest round (the
least disturbed one) gives the ratios, and the median shows the spread. Wall and
CPU seconds (this process, all threads) are both kept: on a busy machine wall
time also counts waiting for a core.

Peak memory is what a method needs on top of what the process held before it
started: on CUDA, torch's peak allocation; on CPU, the peak resident set size,
sampled every 2 ms by a thread, after handing freed heap back to the system
(``malloc_trim``) so one method's leftovers do not hide the next one's needs.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

Scores = list[list[float]]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _trim_heap() -> None:
    # Not glibc: nothing to trim, and the baseline may then include leftovers.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakMemory:
    """``with PeakMemory(device) as peak: ...``; then ``peak.bytes`` is the method's extra peak."""

    def __init__(self, device: str):
        self.cuda = str(device).startswith("cuda")
        self.bytes = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        import gc

        gc.collect()
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
            return self
        _trim_heap()
        self._base = self._peak = _rss_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self._peak = max(self._peak, _rss_bytes())

    def __exit__(self, *exc: Any) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            self.bytes = torch.cuda.max_memory_allocated() - self._base
            return
        self._stop.set()
        self._thread.join()
        self.bytes = max(self._peak, _rss_bytes()) - self._base


def max_abs_diff(a: Scores, b: Scores) -> float:
    return max(abs(x - y) for s, t in zip(a, b) for x, y in zip(s, t))


def measure(
    methods: dict[str, Callable[[list[Any]], Scores]],
    requests: list[Any],
    rounds: int,
    device: str = "cpu",
    baseline: str = "reference",
    compare: tuple[str, ...] = ("lm-eval",),
    no_scores: tuple[str, ...] = ("limit",),
) -> dict[str, dict[str, Any]]:
    """Every method ``rounds`` times in a rotating order: best/median wall, best CPU seconds,
    peak extra memory, and the largest difference of its log-probs from ``baseline``'s (full
    sequences) and from each method in ``compare`` (methods in ``no_scores`` have none)."""
    names = list(methods)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    peak: dict[str, int] = dict.fromkeys(names, 0)
    scores: dict[str, Scores] = {}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            with PeakMemory(device) as memory:
                start, start_cpu = time.perf_counter(), time.process_time()
                scores[name] = methods[name](requests)
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
            peak[name] = max(peak[name], memory.bytes)
            print(f"  round {r + 1} {name}: {wall[name][-1]:.2f} s", flush=True)
    results = {}
    for n in names:
        diffs = {}
        if n not in no_scores:
            for other in (baseline, *compare):
                if other in scores and other != n:
                    diffs[other] = max_abs_diff(scores[n], scores[other])
        results[n] = {
            "seconds": min(wall[n]),
            "median_seconds": statistics.median(wall[n]),
            "cpu_seconds": min(cpu[n]),
            "all_seconds": wall[n],
            "peak_mib": peak[n] / 2**20,
            "max_abs_diff": diffs,
        }
    return results
