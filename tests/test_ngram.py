"""The bundled 3-gram scorer: tokens, history order, OOV handling and units."""

from __future__ import annotations

import math

import pytest

from s2sbench.models.ngram import (
    LOGMATH_TO_NATS,
    OOV_LOGPROB,
    NGramScorer,
    continuation_tokens,
    tokenize,
)


class RecordingLM:
    """Stands in for pocketsphinx's NGramModel and remembers every query."""

    def __init__(self, value: int = -10000):
        self.value = value
        self.calls: list[list[str]] = []

    def prob(self, ngram: list[str]) -> int:
        self.calls.append(list(ngram))
        return self.value


def fake_scorer(lm: RecordingLM) -> NGramScorer:
    scorer = NGramScorer.__new__(NGramScorer)
    scorer.lm_path = None
    scorer.lm = lm
    return scorer


@pytest.fixture(scope="module")
def scorer() -> NGramScorer:
    return NGramScorer()


def test_tokenize_adds_sentence_markers_and_drops_punctuation():
    assert tokenize("Tom's dog ran, fast. It slept!", start=True) == [
        "<s>",
        "tom's",
        "dog",
        "ran",
        "fast",
        "</s>",
        "<s>",
        "it",
        "slept",
        "</s>",
        "<s>",
    ]
    assert tokenize("no start", start=False) == ["no", "start"]


def test_continuation_tokens_move_trailing_start_marker_out():
    history, cont = continuation_tokens("He sat down.", "He slept.")
    assert history == ["<s>", "he", "sat", "down", "</s>", "<s>"]
    assert cont == ["he", "slept", "</s>"]


def test_history_is_passed_most_recent_first():
    lm = RecordingLM()
    total, n, oov = fake_scorer(lm).logprob(["<s>", "a", "b"], ["w", "x"])
    assert lm.calls == [["w", "b", "a"], ["x", "w", "b"]]
    assert (n, oov) == (2, 0)
    assert total == pytest.approx(2 * -10000 * LOGMATH_TO_NATS)


def test_start_marker_in_continuation_is_history_not_scored():
    lm = RecordingLM()
    _, n, _ = fake_scorer(lm).logprob(["<s>", "a"], ["b", "</s>", "<s>", "c"])
    assert n == 3
    assert lm.calls[-1] == ["c", "<s>", "</s>"]


def test_real_lm_order_matters(scorer: NGramScorer):
    right = scorer.logprob(["<s>", "in", "new"], ["york"])[0]
    assert right == pytest.approx(scorer.lm.prob(["york", "new", "in"]) * LOGMATH_TO_NATS)
    swapped = scorer.logprob(["<s>", "new", "in"], ["york"])[0]
    assert right > swapped  # "in new york" is far likelier than "new in york"


def test_oov_words_get_the_fixed_penalty_and_are_counted(scorer: NGramScorer):
    known = scorer.score_text("The dog", "ran")
    unknown = scorer.score_text("The dog", "ran zqxwvj")
    assert "oov" not in known.extra
    assert unknown.extra["oov"] == 1
    assert unknown.n_tokens == known.n_tokens + 1
    after = scorer.logprob(["<s>", "the", "dog", "ran"], ["zqxwvj"])[0]
    assert after == pytest.approx(OOV_LOGPROB)


def test_logprobs_are_in_nats(scorer: NGramScorer):
    assert pytest.approx(math.log(1.0001)) == LOGMATH_TO_NATS
    total, n, _ = scorer.logprob(["<s>"], ["the"])
    assert n == 1
    assert 0.0 < math.exp(total) < 1.0
    # "the" opens a sentence with probability of a few percent, not 1e-40 or 0.9.
    assert 0.005 < math.exp(total) < 0.3
