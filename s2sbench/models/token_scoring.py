"""One request as token ids, and the batching/scoring loop adapters over token ids share.

Adapters that score a request's continuations as token-id tails after one
shared context (``unit-lm``, the audio-token plugins, ``hf-audio``) all keep
the same per-request record, batch requests the same way (longest first, a
request costs its number of continuations, so all its continuations run in
one forward) and turn a flat list of per-row sums back into per-request
scores the same way. Keeping that here means a change to how requests are
grouped or how scores are returned cannot drift between adapters.
:func:`score_units` also batches Baichuan-Audio's units (strings, not ids):
it needs only a unit's ``longest`` and ``rows``.

:func:`full_sequence_scores` is the plain strategy: every context + tail is
its own right-padded row, scored by :func:`gather_logprob_sums` from the
logits that predict the tail. How logits are computed stays with the adapter
(one stream or two, which device, which head).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from s2sbench.core.scoring import ContinuationScore
from s2sbench.models.batching import AutoBatcher, gather_logprob_sums, pad_rows

Scored = tuple[int, list[ContinuationScore]]


@dataclass
class TokenUnit:
    """One request as token ids: a shared context and one id list per continuation."""

    request: int
    context: list[int]
    tails: list[list[int]]

    @property
    def longest(self) -> int:
        return len(self.context) + max(len(tail) for tail in self.tails)

    @property
    def rows(self) -> int:
        return len(self.tails)


class Batchable(Protocol):
    """What :func:`score_units` needs of a unit: its longest row (for length sorting) and how
    many rows it adds to a forward (its cost)."""

    @property
    def longest(self) -> int: ...

    @property
    def rows(self) -> int: ...


U = TypeVar("U", bound=Batchable)


def padding_id(tokenizer: Any, *fallbacks: int | None) -> int:
    """The tokenizer's pad token, else EOS, else the first of ``fallbacks`` that is set, else 0.

    Padded positions are masked or lie past every scored position, so the
    choice never changes a score; it only has to be a valid id.
    """
    candidates = (tokenizer.pad_token_id, tokenizer.eos_token_id, *fallbacks)
    return next((i for i in candidates if i is not None), 0)


def scores_by_request(units: Sequence[TokenUnit], sums: Iterator[float]) -> list[Scored]:
    """Per-row sums (units' tails in order) as ``(request, scores)``; ``n_tokens`` = tail length."""
    return [
        (unit.request, [ContinuationScore(next(sums), len(tail)) for tail in unit.tails])
        for unit in units
    ]


def full_sequence_scores(
    units: Sequence[TokenUnit], logits_fn: Callable[[Any, Any], Any], pad_id: int
) -> list[Scored]:
    """Every context + tail as its own right-padded row; only the tail's tokens are scored.

    ``logits_fn(ids, mask)`` gets CPU tensors of shape (rows, width), rows in
    the order of the units' tails, and returns (rows, width, vocabulary)
    logits; it runs under ``torch.inference_mode``.
    """
    import torch

    rows = [(unit, tail) for unit in units for tail in unit.tails]
    ids, mask, _ = pad_rows([unit.context + tail for unit, tail in rows], pad_id, "right")
    with torch.inference_mode():
        logits = logits_fn(ids, mask)
    starts = [len(unit.context) - 1 for unit, _ in rows]
    sums = gather_logprob_sums(logits, starts, [tail for _, tail in rows])
    return scores_by_request(units, iter(sums))


def causal_logits(model: Any) -> Callable[[Any, Any], Any]:
    """``logits_fn`` for a plain causal LM: ids and mask moved to the model's device."""

    def logits(ids: Any, mask: Any) -> Any:
        device = model.device
        return model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits

    return logits


def score_units(
    batcher: AutoBatcher[U, list[Scored]],
    units: Sequence[U],
    forward: Callable[[list[U]], list[Scored]],
) -> Iterator[Scored]:
    """``(request, scores)`` as batches finish. A unit costs its rows, so all continuations of
    a request share one forward, and batches go longest first."""
    for _, results in batcher.run(
        units, forward, length=lambda unit: unit.longest, cost=lambda unit: unit.rows
    ):
        yield from results
