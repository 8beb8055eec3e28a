"""Length-sorted batching that halves itself on out-of-memory, and padding helpers.

Every neural adapter has the same problem: many inputs of different lengths,
an unknown amount of accelerator memory, and scores that must not depend on
how inputs were grouped. :class:`AutoBatcher` sorts the work longest first
(so the first batch is the biggest one, and memory trouble shows at once,
and padding within a batch is small), fills each batch up to a *cost* budget
(by default one per unit; an adapter may count e.g. the continuations of a
context), and on an out-of-memory error halves the budget and retries the
same units. The size that worked is kept for the rest of the run.

The tensor helpers (padding on either side, position ids, float32 gathering of
target log-probs, copying a KV cache across continuations) are shared by the
text and audio adapters; torch and transformers are imported inside them so
this module stays cheap to import.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from s2sbench.core.errors import ConfigError, ModelError

# Their home is kv_reuse; adapters and tests import them from here too.
from s2sbench.models.kv_reuse import CannotReuseCache, expand_cache  # noqa: F401

log = logging.getLogger(__name__)

Unit = TypeVar("Unit")
Result = TypeVar("Result")

DEFAULT_AUTO_START = 64


def is_out_of_memory(exc: BaseException) -> bool:
    """True for torch's OOM error and for the RuntimeErrors some backends raise instead."""
    try:
        import torch

        oom_types: tuple[type[BaseException], ...] = tuple(
            t
            for t in (
                getattr(torch, "OutOfMemoryError", None),
                getattr(torch.cuda, "OutOfMemoryError", None),
            )
            if t is not None
        )
    except ImportError:
        oom_types = ()
    if oom_types and isinstance(exc, oom_types):
        return True
    return isinstance(exc, (RuntimeError, MemoryError)) and "out of memory" in str(exc).lower()


def _release_memory() -> None:
    """Free what the failed batch held before retrying with a smaller one."""
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


def parse_batch_size(
    value: int | str | None, auto_start: int = DEFAULT_AUTO_START
) -> tuple[int, bool]:
    """``(starting size, auto)`` from ``8``, ``"8"``, ``"auto"``, ``"auto:128"`` or None (auto)."""
    if value is None:
        return auto_start, True
    text = str(value).strip().lower()
    auto = text.startswith("auto")
    if auto:
        text = text.partition(":")[2] or str(auto_start)
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise ConfigError(
            f"bad batch size '{value}'", hint="use a positive integer, auto or auto:MAX"
        )
    return size, auto


class AutoBatcher(Generic[Unit, Result]):
    """Runs units in length-sorted batches and survives out-of-memory by halving.

    A fixed integer size is an upper bound too: halving on OOM only changes
    speed, never scores, so a run is never lost to a too-ambitious setting.
    """

    def __init__(self, batch_size: int | str | None, auto_start: int = DEFAULT_AUTO_START):
        self.size, self.auto = parse_batch_size(batch_size, auto_start)
        # ``auto`` (or None) may grow to what the free memory holds; ``auto:MAX`` never
        # passes MAX, and a fixed size is never changed (see ``memory_budget.size_auto_batch``)
        self.bounded = not self.auto or ":" in str(batch_size)

    def order(
        self,
        units: Sequence[Unit],
        length: Callable[[Unit], int],
        key: Callable[[Unit], tuple[int, ...]] | None = None,
    ) -> list[int]:
        """Unit indices, largest ``key`` (default: length) first; ties keep their input order."""
        rank = key or (lambda unit: (length(unit),))
        return sorted(range(len(units)), key=lambda i: (tuple(-x for x in rank(units[i])), i))

    def take(
        self, units: Sequence[Unit], order: list[int], pos: int, cost: Callable[[Unit], float]
    ) -> list[int]:
        """The next batch from ``order[pos:]``: as many units as fit the budget, at least one."""
        batch, spent = [order[pos]], cost(units[order[pos]])
        for index in order[pos + 1 :]:
            spent += cost(units[index])
            if spent > self.size:
                break
            batch.append(index)
        return batch

    def run(
        self,
        units: Sequence[Unit],
        forward: Callable[[list[Unit]], Result],
        length: Callable[[Unit], int],
        cost: Callable[[Unit], float] = lambda _: 1,
        key: Callable[[Unit], tuple[int, ...]] | None = None,
    ) -> Iterator[tuple[list[int], Result]]:
        """Yield ``(unit indices, forward(units))`` per batch, retrying smaller on OOM.

        ``key`` orders the units when the padding that matters is not the total
        length's (largest first); ``length`` still names a unit in errors.
        """
        order = self.order(units, length, key)
        pos = 0
        while pos < len(order):
            indices = self.take(units, order, pos, cost)
            try:
                result = forward([units[i] for i in indices])
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                self._shrink(exc, indices, units, length)
                continue
            pos += len(indices)
            yield indices, result

    def _shrink(
        self,
        exc: BaseException,
        indices: list[int],
        units: Sequence[Unit],
        length: Callable[[Unit], int],
    ) -> None:
        _release_memory()
        if len(indices) == 1:
            raise ModelError(
                f"out of memory on a single input of length {length(units[indices[0]])}",
                hint="lower max_length, use dtype=bfloat16, or a device with more memory",
            ) from exc
        new_size = max(1, self.size // 2)
        log.warning("out of memory at batch size %d; retrying at %d", self.size, new_size)
        self.size = new_size


def pad_rows(
    rows: Sequence[Sequence[int]], pad_id: int, side: str, device: Any = None
) -> tuple[Any, Any, list[int]]:
    """``(ids, attention_mask, offsets)`` for token rows padded on ``side`` to one length.

    ``offsets[b]`` is where row ``b``'s first real token sits, so callers can
    find any position of a row whatever the padding side.
    """
    import torch

    width = max(len(row) for row in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    offsets = []
    for b, row in enumerate(rows):
        start = width - len(row) if side == "left" else 0
        ids[b, start : start + len(row)] = torch.tensor(row, dtype=torch.long)
        mask[b, start : start + len(row)] = 1
        offsets.append(start)
    return ids.to(device), mask.to(device), offsets


def positions_from_mask(mask: Any, start: Any = 0) -> Any:
    """Position ids that count real tokens only (left padding must not shift positions)."""
    return (mask.long().cumsum(1) - 1).clamp(min=0) + start


def picked_logprob_sums(
    logits: Any,
    targets: Sequence[int],
    out_rows: Sequence[int],
    n_out: int,
    source_rows: Sequence[int] | None = None,
) -> Any:
    """Float64 tensor of ``n_out`` sums: pick ``n`` adds ``log p(targets[n])``, read from
    row ``source_rows[n]`` (default: row ``n``) of the 2-D ``logits``, to sum ``out_rows[n]``.

    The logits arrive already cut down to the positions that are read (see
    ``logit_selection``); each row is normalised once, in float32 whatever the
    model's dtype, so a bf16 model does not lose its log-probs to rounding.
    """
    import torch

    device = logits.device
    logprobs = logits.float().log_softmax(-1)
    rows = range(len(targets)) if source_rows is None else source_rows
    picked = logprobs[
        torch.as_tensor(list(rows), device=device), torch.as_tensor(list(targets), device=device)
    ]
    sums = torch.zeros(n_out, dtype=torch.float64, device=device)
    return sums.index_add_(0, torch.as_tensor(list(out_rows), device=device), picked.double())
