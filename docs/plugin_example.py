"""A complete s2sbench model plugin: a character bigram LM fitted to each context.

Use it as ``--model plugin_example:ContextBigram`` with this file's folder on
``PYTHONPATH`` (or ``s2sbench.evaluate(model="plugin_example:ContextBigram")``).
It is deliberately small but honest: it reads a text context, fits
add-``alpha`` smoothed character bigram counts to it, and scores each
continuation's characters under those counts. A continuation that reuses the
context's character patterns gets a higher log-probability. It reads text
only, so it reports the speech conditions as unsupported instead of faking
them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from s2sbench.plugin import Condition, ConfigError, ContextRequest, ContinuationScore


class ContextBigram:
    """T2T only: log P(continuation characters | bigram counts of the context)."""

    name = "context-bigram"

    def __init__(self, alpha: float = 0.5, vocab_size: int = 5000, **_runtime: Any):
        # ``_runtime`` takes the run-wide keys (batch_size, device, long_audio,
        # trust_remote_code, allow_pickle) that this model does not need.
        if alpha <= 0 or vocab_size < 2:
            raise ConfigError(
                f"context-bigram needs alpha > 0 and vocab_size >= 2 (got {alpha}, {vocab_size})",
                hint="e.g. --model-args alpha=0.5,vocab_size=5000",
            )
        self.alpha = float(alpha)
        self.vocab_size = int(vocab_size)

    def fingerprint(self) -> dict[str, Any]:
        # Everything that changes the numbers: a new setting never reuses old cached scores.
        return {
            "adapter": self.name,
            "version": 1,
            "alpha": self.alpha,
            "vocab_size": self.vocab_size,
        }

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if condition != Condition.T2T:
            return "context-bigram reads text contexts and scores text continuations only"
        return None

    def _logprob(
        self, pairs: Counter[tuple[str, str]], firsts: Counter[str], previous: str, char: str
    ) -> float:
        numerator = pairs[(previous, char)] + self.alpha
        denominator = firsts[previous] + self.alpha * self.vocab_size
        return math.log(numerator / denominator)

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, request in enumerate(requests):
            context = request.text_context
            pairs = Counter(zip(context, context[1:]))
            firsts = Counter(context[:-1])
            scores = []
            for continuation in request.continuations:
                previous = context[-1:] or " "
                total = 0.0
                for char in continuation:
                    total += self._logprob(pairs, firsts, previous, char)
                    previous = char
                scores.append(ContinuationScore(total, len(continuation)))
            yield index, scores
