"""The bundled en-US 3-gram LM (shipped in the ``pocketsphinx`` wheel) as a scorer.

How its loss is defined (so the numbers mean something):

* Text is lower-cased (the LM's vocabulary is lower case) and split into
  words: letters, digits and inner apostrophes (``don't``); other
  punctuation is dropped, except that ``.``, ``!`` and ``?`` end a sentence.
* Every sentence is ``<s> w1 ... wn </s>``; the history of a word is the
  previous two tokens of the whole text (context, then continuation),
  sentence markers included, so a continuation that starts a new sentence is
  conditioned on ``<s>`` and the LM sees little of the context. That is what
  a 3-gram can do; we report it as it is.
* The continuation's tokens are its words plus one ``</s>`` per sentence it
  ends. ``logprob_sum`` is the sum of their log-probabilities in nats
  (pocketsphinx returns LogMath units, base 1.0001).
* A word outside the LM's vocabulary scores ``OOV_LOGPROB`` (one in ten
  million, in nats) and is counted in ``extra["oov"]``: a fixed, documented
  penalty instead of a silent zero probability.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore

LOGMATH_TO_NATS = math.log(1.0001)
OOV_LOGPROB = math.log(1e-7)
LOG_ZERO = -536870912  # what pocketsphinx returns for an unknown word
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[.!?]+")


@lru_cache(maxsize=4)
def load_ngram(path: str | None = None) -> Any:
    """The n-gram model at ``path`` (default: pocketsphinx's en-us.lm.bin), loaded once."""
    import pocketsphinx

    if path is None:
        path = os.path.join(pocketsphinx.get_model_path(), "en-us", "en-us.lm.bin")
    return pocketsphinx.NGramModel.readfile(path)


def tokenize(text: str, *, start: bool) -> list[str]:
    """Words with sentence markers; ``start`` opens the text with ``<s>``."""
    tokens = ["<s>"] if start else []
    for match in _WORD.findall(text.lower()):
        if match[0] in ".!?":
            if tokens and tokens[-1] != "<s>":
                tokens += ["</s>", "<s>"]
        else:
            tokens.append(match)
    return tokens


def continuation_tokens(context: str, continuation: str) -> tuple[list[str], list[str]]:
    """(history tokens, continuation tokens) with a trailing ``<s>`` moved out of the latter."""
    history = tokenize(context, start=True)
    cont = tokenize(continuation, start=False)
    if cont and cont[-1] == "<s>":
        cont.pop()
    return history, cont


class NGramScorer:
    """Sum of 3-gram log-probabilities of continuation tokens after a history."""

    order = 3

    def __init__(self, lm_path: str | None = None):
        self.lm_path = lm_path
        self.lm = load_ngram(lm_path)

    def logprob(self, history: list[str], tokens: list[str]) -> tuple[float, int, int]:
        """(sum of log-probs in nats, number of scored tokens, OOV count)."""
        seq = list(history)
        total, n, oov = 0.0, 0, 0
        for tok in tokens:
            if tok != "<s>":
                ngram = [tok, *reversed(seq[-(self.order - 1) :])]
                raw = self.lm.prob(ngram)
                if raw <= LOG_ZERO:
                    total += OOV_LOGPROB
                    oov += 1
                else:
                    total += raw * LOGMATH_TO_NATS
                n += 1
            seq.append(tok)
        return total, n, oov

    def score_text(self, context: str, continuation: str) -> ContinuationScore:
        history, tokens = continuation_tokens(context, continuation)
        total, n, oov = self.logprob(history, tokens)
        return ContinuationScore(total, n, {"oov": oov} if oov else {})


class NGramModelAdapter:
    """T2T (and the context-free ``none``) with the bundled en-US 3-gram LM: English text only."""

    name = "ngram"
    summary = "the bundled en-US 3-gram LM alone"
    conditions = ("t2t", "none")
    languages = "English"

    def __init__(self, lm_path: str | None = None, **_runtime: Any):
        self.scorer = NGramScorer(lm_path)

    def fingerprint(self) -> dict[str, Any]:
        return {
            "adapter": "ngram",
            "lm": self.scorer.lm_path or "pocketsphinx:en-us.lm.bin",
            "oov_logprob": OOV_LOGPROB,
        }

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if lang != "en":
            return "the bundled 3-gram LM is English (en-US) only"
        if condition not in (Condition.T2T, Condition.NONE):
            return "the n-gram LM reads text only; use the 'sphinx' cascade for speech input"
        return None

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, request in enumerate(requests):
            context = request.prefix + (request.context_text or "")
            yield index, [self.scorer.score_text(context, c) for c in request.continuations]
