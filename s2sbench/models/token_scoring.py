"""One request as token ids, and the batching loop for adapters that run their own forward.

:class:`TokenUnit` is the per-request record of the adapters that build token ids
themselves (``unit-lm``, ``hf-audio``, the audio-token plugins): a shared context
and one tail per continuation. Those adapters score through the package's one
token scorer (:mod:`context_scorer`, :mod:`causal_scoring`), which holds the only
forward passes over token ids.

:func:`score_units` batches units for an adapter whose model takes something
other than token ids (Baichuan-Audio's prompt strings, scored by the model's own
processor and loss): longest first, a unit costs its number of rows, so all
continuations of a request share one forward. It needs only a unit's
``longest`` and ``rows``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from s2sbench.core.scoring import ContinuationScore
from s2sbench.models.batching import AutoBatcher

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
