"""Word error rate: how well the ASR of a cascade heard the contexts.

WER = (substitutions + deletions + insertions) / reference words, from the
word-level Levenshtein alignment. Texts are normalised the same way the
bundled n-gram LM reads them (lower case, words with inner apostrophes,
punctuation dropped), so the number measures recognition, not formatting.
A corpus WER sums edits and reference words over all pairs (not a mean of
per-sentence rates), so long contexts weigh what they contain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def normalise_words(text: str) -> list[str]:
    """Lower-cased words; punctuation is dropped, inner apostrophes kept (``don't``)."""
    return _WORD.findall(text.lower())


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Minimum substitutions + deletions + insertions turning ``reference`` into ``hypothesis``."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_word != hyp_word),  # substitution or match
                )
            )
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class WERResult:
    """Corpus word error rate with its parts."""

    wer: float
    edits: int
    ref_words: int
    n_pairs: int


def wer(reference: str, hypothesis: str) -> float:
    """WER of one hypothesis; an empty reference gives 0 if the hypothesis is empty, else 1."""
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> WERResult:
    """Total edits / total reference words over ``(reference, hypothesis)`` pairs."""
    edits = words = n = 0
    for reference, hypothesis in pairs:
        ref, hyp = normalise_words(reference), normalise_words(hypothesis)
        edits += edit_distance(ref, hyp)
        words += len(ref)
        n += 1
    return WERResult(edits / words if words else 0.0, edits, words, n)
