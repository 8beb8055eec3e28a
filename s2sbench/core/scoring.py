"""The one interface every model adapter implements.

``score`` receives context requests (a context and all its continuations) and
yields, in any order, ``(request_index, scores)`` as batches finish; the
evaluator stores each result as soon as it arrives, so a killed run loses at
most the batch in flight.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest


@dataclass(frozen=True)
class ContinuationScore:
    """Raw numbers for one continuation: every metric is derived from these.

    ``logprob_sum`` is the natural-log probability of the continuation's
    tokens given the context; ``n_tokens`` counts those tokens (so the
    reference loss is ``-logprob_sum / n_tokens``). ``extra`` carries
    adapter facts worth keeping (e.g. the ASR transcript of the context).
    """

    logprob_sum: float
    n_tokens: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def loss(self) -> float:
        return -self.logprob_sum / self.n_tokens if self.n_tokens else math.inf


@runtime_checkable
class ScoringModel(Protocol):
    """What the evaluator needs from a model."""

    name: str

    def fingerprint(self) -> dict[str, Any]:
        """Everything that identifies the scores: adapter, weights, revision, dtype...

        Two models with different fingerprints never share cached scores.
        """
        ...

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        """``None`` if the model can score this condition and language, else why not."""
        ...

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        """Score every continuation of every request; yield ``(index, scores)``."""
        ...
