"""Which shard a replica scores next: pure bookkeeping, no Ray, so it is tested on its own.

Work comes in *units* (one model or checkpoint and the requests to score with
it) cut into *shards*: contiguous runs of requests. A request already holds
one context and all its continuations, so a shard never splits a context
group and an adapter's shared-context reuse works inside every shard.

The policy keeps model loads rare: a replica keeps taking shards of the unit
it has loaded; when that unit has none left it moves to the untouched unit
with the most shards (longest first, so the sweep's tail is short), and only
when every unit has a holder does it join the unit with the most unassigned
shards per holder. A replica thus loads each checkpoint at most once, unless
a shard comes back after a crash.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from s2sbench.core.errors import ModelError

#: Shards per replica when the shard size is chosen automatically: enough that
#: fast replicas pick up the slack of slow ones, few enough that each shard
#: amortises the round trip to the actor.
SHARDS_PER_REPLICA = 4
#: Upper bound on an automatic shard size, so a crash loses little work and
#: scores stream back to the store steadily on large runs.
MAX_AUTO_SHARD = 64


@dataclass(frozen=True)
class Shard:
    """Requests ``start`` up to ``stop`` (exclusive) of work unit ``unit``."""

    unit: int
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start


def auto_shard_size(n_requests: int, replicas: int) -> int:
    """A shard size giving each replica about ``SHARDS_PER_REPLICA`` shards."""
    wanted = math.ceil(n_requests / max(1, replicas * SHARDS_PER_REPLICA))
    return max(1, min(MAX_AUTO_SHARD, wanted))


def cut_shards(unit: int, n_requests: int, shard_size: int) -> list[Shard]:
    """Contiguous shards of one unit (neighbouring requests have similar lengths: good batches)."""
    if shard_size < 1:
        raise ValueError("shard_size must be at least 1")
    return [
        Shard(unit, start, min(start + shard_size, n_requests))
        for start in range(0, n_requests, shard_size)
    ]


class ShardQueue:
    """Unassigned shards per unit, who holds which unit, and how often a shard was tried."""

    def __init__(self, unit_sizes: Sequence[int], shard_size: int, max_attempts: int):
        self.max_attempts = max_attempts
        self._todo: dict[int, deque[Shard]] = {
            unit: deque(cut_shards(unit, size, shard_size))
            for unit, size in enumerate(unit_sizes)
            if size
        }
        self._attempts: dict[Shard, int] = {}
        self._holders: dict[int, int] = dict.fromkeys(self._todo, 0)
        self.unfinished = sum(len(q) for q in self._todo.values())

    def _pick_unit(self, loaded: int | None) -> int | None:
        if loaded is not None and self._todo.get(loaded):
            return loaded
        open_units = [u for u, q in self._todo.items() if q]
        if not open_units:
            return None
        untouched = [u for u in open_units if self._holders[u] == 0]
        if untouched:
            return max(untouched, key=lambda u: (len(self._todo[u]), -u))
        return max(open_units, key=lambda u: (len(self._todo[u]) / self._holders[u], -u))

    def take(self, loaded: int | None) -> Shard | None:
        """The next shard for a replica that has unit ``loaded`` in memory (or nothing)."""
        unit = self._pick_unit(loaded)
        if unit is None:
            return None
        if unit != loaded:
            self.release(loaded)
            self._holders[unit] += 1
        shard = self._todo[unit].popleft()
        self._attempts[shard] = self._attempts.get(shard, 0) + 1
        return shard

    def release(self, loaded: int | None) -> None:
        """A replica dropped unit ``loaded`` (it moved on or died)."""
        if loaded is not None and self._holders.get(loaded, 0) > 0:
            self._holders[loaded] -= 1

    def done(self, shard: Shard) -> None:
        self.unfinished -= 1

    def retry(self, shard: Shard, why: str) -> None:
        """Put back a shard whose replica died; give up after ``max_attempts`` tries."""
        tries = self._attempts.get(shard, 0)
        if tries >= self.max_attempts:
            raise ModelError(
                f"a shard of {len(shard)} requests (unit {shard.unit}, requests "
                f"{shard.start}-{shard.stop - 1}) lost its replica {tries} times; last: {why}",
                hint="the replica likely runs out of memory on it: lower --batch-size, give "
                "each replica more GPUs (--gpus-per-replica) or run it locally to see the error",
            )
        self._todo[shard.unit].appendleft(shard)
