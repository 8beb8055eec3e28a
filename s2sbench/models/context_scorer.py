"""One scorer for requests as token ids: shared context or full sequences, one fallback rule.

*Shared context* (the default): one forward over the contexts of a batch, then one
forward over all their continuations reading a fresh, batch-expanded copy of the
contexts' KV cache (:mod:`kv_reuse`). *Full sequences*: context + continuation as
one padded row each. Both give the same numbers (tests/test_sliding_window_reuse.py,
tests/test_logits_to_keep.py); the forward passes themselves are
:class:`~s2sbench.models.causal_scoring.TokenScorer`'s, the only ones in the package:
an adapter whose model is not a plain causal LM hands in a ``scorer`` factory that
builds the TokenScorer with its own inputs and head pieces (:mod:`forward_pieces`).

:class:`ContextReuse` is the single rule for when the shared path is left, used by
every adapter that scores through here (``hf``, ``hf-cascade`` through it,
``unit-lm``, ``hf-audio``, the GLM-4-Voice plugin; Kimi-Audio's two streams run with
reuse off): a request shares its context when reuse is on and it fits
the model's sliding window (longer ones are scored as full sequences, request by
request); a cache that cannot be copied at all, found when routing or raised by a
forward, turns reuse off for the rest of the adapter's life, logged once, and every
request not yet scored goes to full sequences.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from s2sbench.models.batching import AutoBatcher, CannotReuseCache
from s2sbench.models.causal_scoring import TokenScorer
from s2sbench.models.kv_reuse import reuse_limit
from s2sbench.models.text_encoding import EncodedRequest

log = logging.getLogger(__name__)

UNREAD = object()


class ContextReuse:
    """Whether a request may share its context's cache (see the module docstring)."""

    def __init__(self, enabled: bool, config: Any, label: str):
        self.enabled = bool(enabled)
        self.gave_up = False  # set by the fallback, not by reuse_context=False
        self.config = config
        self.label = label
        self._limit: Any = UNREAD

    def limit(self) -> int | None:
        """The model's sliding window (None: any length), read once from its config; raises
        :class:`CannotReuseCache` when its cache cannot be copied at all."""
        if self._limit is UNREAD:
            self._limit = reuse_limit(self.config)
        return self._limit

    def fits(self, longest: int) -> bool:
        """Whether a request whose longest row is ``longest`` tokens goes the shared path."""
        if not self.enabled:
            return False
        try:
            limit = self.limit()
        except CannotReuseCache as exc:
            self.give_up(exc)
            return False
        return limit is None or longest <= limit

    def route(self, lengths: Sequence[int]) -> tuple[list[int], list[int]]:
        """``(shared, full)`` indices of requests whose longest rows are ``lengths``."""
        shared = [i for i, n in enumerate(lengths) if self.fits(n)]
        if self.enabled and len(shared) < len(lengths):
            log.info(
                "%d of %d requests are longer than the %s-token sliding window: full sequences",
                len(lengths) - len(shared),
                len(lengths),
                self._limit,
            )
        chosen = set(shared)
        return shared, [i for i in range(len(lengths)) if i not in chosen]

    def give_up(self, exc: CannotReuseCache) -> None:
        """The fallback: no shared context for the rest of this adapter's life."""
        if self.enabled:
            log.warning(
                "%s: cannot reuse the context cache (%s); scoring full sequences", self.label, exc
            )
        self.gave_up = self.gave_up or self.enabled
        self.enabled = False


class ContextScorer:
    """Per-request log-prob sums of encoded requests, with one model.

    ``scorer(model)`` builds the :class:`TokenScorer` of freshly loaded weights; by
    default a plain causal LM's (its own head cut by ``logits_to_keep``)."""

    def __init__(
        self,
        model: Callable[[], Any],
        pad_id: int,
        padding_side: str,
        batcher: AutoBatcher[Any, Any],
        reuse: ContextReuse,
        scorer: Callable[[Any], TokenScorer] | None = None,
    ):
        self.model = model
        self.pad_id = pad_id
        self.padding_side = padding_side
        self.batcher = batcher
        self.reuse = reuse
        self._build = scorer or (lambda m: TokenScorer(m, self.pad_id, self.padding_side))
        self._scorer: TokenScorer | None = None

    def token_scorer(self) -> TokenScorer:
        """One per loaded model: it remembers how the model's output layer is cut."""
        model = self.model()
        if self._scorer is None or self._scorer.model is not model:
            self._scorer = self._build(model)
        return self._scorer

    def score(self, encoded: list[EncodedRequest]) -> Iterator[tuple[int, list[float]]]:
        """``(index, sums)`` per request as batches finish, whichever path each one takes."""
        scorer = self.token_scorer()
        shared, full = self.reuse.route([e.longest for e in encoded])
        done: set[int] = set()
        try:
            for index, sums in self._shared(scorer, encoded, shared):
                done.add(index)
                yield index, sums
        except CannotReuseCache as exc:
            self.reuse.give_up(exc)
            full = sorted(full + [i for i in shared if i not in done])
        yield from self._full(scorer, encoded, full)

    def _shared(
        self, scorer: TokenScorer, encoded: list[EncodedRequest], units: list[int]
    ) -> Iterator[tuple[int, list[float]]]:
        for batch, results in self.batcher.run(
            units,
            lambda chunk: scorer.shared_context([encoded[i] for i in chunk]),
            length=lambda i: encoded[i].longest,
            cost=lambda i: shared_cost(encoded[i]),
            # Sorted by continuation length first: the continuation forward has more rows.
            key=lambda i: (max(map(len, encoded[i].continuations)), len(encoded[i].context)),
        ):
            yield from zip((units[i] for i in batch), results)

    def _full(
        self, scorer: TokenScorer, encoded: list[EncodedRequest], todo: list[int]
    ) -> Iterator[tuple[int, list[float]]]:
        pairs = [(r, c) for r in todo for c in range(len(encoded[r].continuations))]
        pending = {r: [0.0] * len(encoded[r].continuations) for r in todo}
        missing = {r: len(encoded[r].continuations) for r in todo}
        for batch, sums in self.batcher.run(
            pairs,
            lambda chunk: scorer.full_sequences(
                [(encoded[r].context, encoded[r].continuations[c]) for r, c in chunk],
                [encoded[r].extras for r, _ in chunk],
            ),
            length=lambda p: len(encoded[p[0]].context) + len(encoded[p[0]].continuations[p[1]]),
        ):
            for (r, c), value in zip((pairs[i] for i in batch), sums):
                pending[r][c] = value
                missing[r] -= 1
                if missing[r] == 0:
                    yield r, pending.pop(r)


def shared_cost(request: EncodedRequest) -> float:
    """A shared-context request's share of a batch, in full sequences: its tokens (context once,
    every continuation) over its longest context + continuation. A batch of size B then holds
    about the tokens B full sequences would, as lm-eval's batch of B does, instead of B short
    continuation rows (small forwards waste a CPU's matrix units). Never below 1."""
    unique = len(request.context) + sum(map(len, request.continuations))
    return max(1.0, unique / request.longest)
