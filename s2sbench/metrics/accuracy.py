"""Accuracy and losses of one task under one condition, from raw stored scores.

Reference rules (S2SBench, to the letter):

* story (2 continuations): right iff loss(right) < loss(wrong); a tie is wrong.
* choice (sCMMLU, 4 continuations): the answer is compared with each of the
  3 distractors separately; a pair is right iff loss(answer) <= loss(other),
  so a tie is right; accuracy = right pairs / (3 x questions).

The loss is the mean token cross-entropy over the continuation
(``-logprob_sum / n_tokens``). Because raw sums and counts are stored, the
other views are derived here without re-running a model: 4-way argmax
(``acc_argmax``: right iff the answer has the strictly lowest loss), summed
log-probability (``acc_sum``) and per-byte loss (``acc_per_byte``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from s2sbench.scores.store import ScoreRecord

LossFn = Callable[[ScoreRecord], list[float]]


def mean_token_loss(record: ScoreRecord) -> list[float]:
    return record.losses


def summed_loss(record: ScoreRecord) -> list[float]:
    return [-s.logprob_sum for s in record.scores]


def per_byte_loss(record: ScoreRecord) -> list[float]:
    return [-s.logprob_sum / max(b, 1) for s, b in zip(record.scores, record.n_bytes)]


def pairwise_outcomes(losses: Sequence[float], gold: int, kind: str) -> list[bool]:
    """Reference outcome of each (answer, distractor) pair, with the kind's tie rule."""
    right = losses[gold]
    others = [loss for i, loss in enumerate(losses) if i != gold]
    if kind == "story":
        return [right < other for other in others]
    return [right <= other for other in others]


def item_correct(losses: Sequence[float], gold: int, kind: str) -> float:
    """Fraction of the item's reference pairs that are right (0/1 for stories)."""
    outcomes = pairwise_outcomes(losses, gold, kind)
    return sum(outcomes) / len(outcomes)


def argmax_correct(losses: Sequence[float], gold: int) -> bool:
    best = min(losses)
    return losses[gold] == best and sum(1 for loss in losses if loss == best) == 1


def _accuracy(records: Sequence[ScoreRecord], kind: str, loss_fn: LossFn) -> float:
    outcomes = [o for r in records for o in pairwise_outcomes(loss_fn(r), r.gold, kind)]
    return sum(outcomes) / len(outcomes) if outcomes else math.nan


@dataclass(frozen=True)
class TaskMetrics:
    """The numbers of one (task, condition) cell."""

    n: int
    acc: float
    mean_right_loss: float
    mean_wrong_loss: float
    acc_argmax: float
    acc_sum: float
    acc_per_byte: float
    n_pairs: int
    ties: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def reference_mean_losses(records: Sequence[ScoreRecord], kind: str) -> tuple[float, float]:
    """Mean right and mean wrong loss, computed as the reference eval code computes them.

    The same float operations in the same order, so a ``results_summary.txt``
    written from these numbers is byte-identical to the reference's: stories
    add up each pair's two losses in uttid order (``+=``) and divide by the
    number of pairs; choice tasks list the answer's loss and the other
    option's loss once per (answer, distractor) pair (so the answer's loss
    counts 3 times per question), then ``sum(list) / len(list)``.
    """
    if not records:
        return math.nan, math.nan
    if kind == "story":
        right_total = wrong_total = 0.0
        for record in records:
            losses = record.losses
            right_total += losses[record.gold]
            wrong_total += losses[1 - record.gold]
        return right_total / len(records), wrong_total / len(records)
    answer: list[float] = []
    other: list[float] = []
    for record in records:
        losses = record.losses
        for index, loss in enumerate(losses):
            if index != record.gold:
                answer.append(losses[record.gold])
                other.append(loss)
    return sum(answer) / len(answer), sum(other) / len(other)


def task_metrics(records: Sequence[ScoreRecord], kind: str) -> TaskMetrics:
    """Reference accuracy (percent-free fraction), mean losses and derived views."""
    ties = 0
    for record in records:
        losses = record.losses
        ties += sum(
            1 for i, loss in enumerate(losses) if i != record.gold and loss == losses[record.gold]
        )
    mean_right, mean_wrong = reference_mean_losses(records, kind)
    n_pairs = sum(len(r.scores) - 1 for r in records)
    argmax = [argmax_correct(r.losses, r.gold) for r in records]
    return TaskMetrics(
        n=len(records),
        acc=_accuracy(records, kind, mean_token_loss),
        mean_right_loss=mean_right,
        mean_wrong_loss=mean_wrong,
        acc_argmax=sum(argmax) / len(argmax) if argmax else math.nan,
        acc_sum=_accuracy(records, kind, summed_loss),
        acc_per_byte=_accuracy(records, kind, per_byte_loss),
        n_pairs=n_pairs,
        ties=ties,
    )
