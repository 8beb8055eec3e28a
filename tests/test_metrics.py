"""Metric rules on hand-made losses, and the paired statistics on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from s2sbench.core.scoring import ContinuationScore
from s2sbench.metrics.accuracy import argmax_correct, pairwise_outcomes, task_metrics
from s2sbench.metrics.paired_stats import mcnemar_exact, paired_bootstrap
from s2sbench.scores.store import ScoreRecord


def record(losses: list[float], gold: int = 0, item: str = "0") -> ScoreRecord:
    scores = tuple(ContinuationScore(-loss * 2, 2) for loss in losses)  # loss = -sum/2
    return ScoreRecord("t", "t2t", item, gold, scores, (5,) * len(losses), (5,) * len(losses))


def test_story_tie_is_wrong() -> None:
    assert pairwise_outcomes([1.0, 2.0], 0, "story") == [True]
    assert pairwise_outcomes([2.0, 2.0], 0, "story") == [False]
    assert pairwise_outcomes([3.0, 2.0], 0, "story") == [False]


def test_choice_tie_is_right_and_three_pairs() -> None:
    assert pairwise_outcomes([2.0, 2.0, 1.0, 3.0], 0, "choice") == [True, False, True]
    assert pairwise_outcomes([1.0, 2.0, 3.0, 4.0], 3, "choice") == [False, False, False]


def test_task_metrics_story() -> None:
    m = task_metrics([record([1.0, 2.0]), record([2.0, 2.0]), record([3.0, 1.0])], "story")
    assert m.n == 3
    assert m.acc == pytest.approx(1 / 3)
    assert m.mean_right_loss == pytest.approx(2.0)
    assert m.mean_wrong_loss == pytest.approx(5 / 3)
    assert m.ties == 1


def test_task_metrics_choice_counts_pairs() -> None:
    recs = [record([1.0, 1.0, 2.0, 0.5], gold=0), record([0.1, 1.0, 2.0, 3.0], gold=0)]
    m = task_metrics(recs, "choice")
    assert m.n_pairs == 6
    assert m.acc == pytest.approx(5 / 6)  # 2/3 (tie right, 0.5 beats) + 3/3
    assert m.acc_argmax == pytest.approx(0.5)
    assert not argmax_correct([1.0, 1.0, 2.0], 0)  # tied best is not an argmax win


def test_sum_and_mean_rankings_can_differ() -> None:
    long_right = ScoreRecord(
        "t", "t2t", "0", 0, (ContinuationScore(-6.0, 6), ContinuationScore(-3.0, 1)), (1, 1), (1, 1)
    )
    m = task_metrics([long_right], "story")
    assert m.acc == 1.0 and m.acc_sum == 0.0


def test_mcnemar_matches_hand_computation() -> None:
    a = [True] * 7 + [False] * 2 + [True] * 5 + [False] * 3
    b = [False] * 7 + [True] * 2 + [True] * 5 + [False] * 3
    result = mcnemar_exact(a, b)
    assert (result.a_only, result.b_only) == (7, 2)
    assert result.p_value == pytest.approx(2 * binom.cdf(2, 9, 0.5))
    assert mcnemar_exact([True, False], [True, False]).p_value == 1.0


def test_bootstrap_matches_hand_computation() -> None:
    a = [1, 1, 0, 1, 0, 1, 1, 1]
    b = [0, 1, 0, 0, 0, 1, 0, 1]
    ci = paired_bootstrap(a, b, n_boot=500, seed=7)
    diffs = np.array(a) - np.array(b)
    idx = np.random.default_rng(7).integers(0, len(diffs), size=(500, len(diffs)))
    boot = diffs[idx].mean(axis=1)
    assert ci.diff == pytest.approx(0.375)
    assert ci.low == pytest.approx(np.quantile(boot, 0.025))
    assert ci.high == pytest.approx(np.quantile(boot, 0.975))
    assert ci.low <= ci.diff <= ci.high
    assert paired_bootstrap(a, b, n_boot=500, seed=7) == ci  # seeded: reproducible


def test_zero_token_loss_is_infinite() -> None:
    assert math.isinf(ContinuationScore(0.0, 0).loss)


def test_transcript_error_rate_words_and_chinese_characters() -> None:
    from s2sbench.metrics.wer import corpus_wer, transcript_error

    heard = ScoreRecord(
        "t",
        "s2t",
        "7",
        0,
        (ContinuationScore(-1.0, 1, {"transcript": "the cat sat down"}),),
        (1,),
        (1,),
    )
    result = transcript_error({"7": "The cat sat."}, [heard], "en")
    assert result is not None and (result.edits, result.ref_words) == (1, 3)
    assert transcript_error({"7": "x"}, [record([1.0, 2.0], item="7")], "en") is None
    zh = corpus_wer([("今天天气很好。", "今天天汽好")], "zh")
    assert (zh.edits, zh.ref_words, zh.unit) == (2, 6, "char")
