"""Error rate of a cascade's ASR: how well it heard the contexts.

English: word error rate on words normalised as the bundled n-gram LM reads
them (lower case, inner apostrophes kept, punctuation dropped), so the number
measures recognition, not formatting. Chinese has no spaces: character error
rate over its characters (punctuation dropped). A corpus rate sums edits and
reference units over all pairs (not a mean of per-sentence rates). The
alignment itself is ``jiwer``'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def normalise_units(text: str, lang: str = "en") -> list[str]:
    """Scoring units: lower-cased words, or for Chinese single characters (and Latin words)."""
    words = _WORD.findall(text.lower())
    if lang != "zh":
        return words
    units: list[str] = []
    for word in words:
        units.extend(_CJK.findall(word) if _CJK.search(word) else [word])
    return units


@dataclass(frozen=True)
class WERResult:
    """Corpus error rate with its parts (``unit`` is ``word`` or ``char``)."""

    wer: float
    edits: int
    ref_words: int
    n_pairs: int
    unit: str = "word"
    empty: int = 0  # hypotheses with nothing in them (the recogniser heard no speech)

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def corpus_wer(pairs: Iterable[tuple[str, str]], lang: str = "en") -> WERResult:
    """Total edits / total reference units over ``(reference, hypothesis)`` pairs."""
    import jiwer

    refs, hyps = [], []
    for reference, hypothesis in pairs:
        refs.append(normalise_units(reference, lang))
        hyps.append(normalise_units(hypothesis, lang))
    edits = sum(len(h) for r, h in zip(refs, hyps) if not r)  # nothing to hear, all inserted
    keep = [i for i, r in enumerate(refs) if r]
    words = sum(len(refs[i]) for i in keep)
    if keep:
        out = jiwer.process_words(
            [" ".join(refs[i]) for i in keep], [" ".join(hyps[i]) for i in keep]
        )
        edits += out.substitutions + out.deletions + out.insertions
    unit = "char" if lang == "zh" else "word"
    empty = sum(1 for h in hyps if not h)
    return WERResult(edits / words if words else 0.0, edits, words, len(refs), unit, empty)


def wer(reference: str, hypothesis: str, lang: str = "en") -> float:
    """Error rate of one hypothesis; an empty reference gives 0 if nothing was heard, else 1."""
    result = corpus_wer([(reference, hypothesis)], lang)
    if not result.ref_words:
        return 0.0 if not result.edits else 1.0
    return result.wer


def transcript_error(
    references: dict[str, str], records: Iterable[object], lang: str
) -> WERResult | None:
    """Corpus error rate of the transcripts a cascade stored (``extra["transcript"]``).

    ``references`` maps item id -> context text. None when the adapter stored
    no transcripts (an end-to-end audio LLM has none to report).
    """
    pairs = []
    for record in records:
        scores = getattr(record, "scores", ())
        transcript = scores[0].extra.get("transcript") if scores else None
        if transcript is not None:
            pairs.append((references[record.item_id], str(transcript)))  # type: ignore[attr-defined]
    return corpus_wer(pairs, lang) if pairs else None
