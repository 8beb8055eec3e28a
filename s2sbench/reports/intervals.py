"""Confidence intervals of accuracies, from the per-item records a run or sweep kept.

Method: a seeded percentile bootstrap over items of the item scores (0/1 for
a story, k/3 for a choice question), the same resampling the read-minus-heard
gap's paired CI uses (``metrics.paired_stats``). Why not a Wilson interval
over pairs: the 3 pairs of an sCMMLU question share its answer's loss and are
not independent, so a binomial interval over pairs would be too narrow;
resampling whole items is right for both task kinds and keeps the accuracy
bands and the gap CIs comparable. Its known weakness: at 0% or 100% accuracy
the interval has zero width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from s2sbench.core.errors import S2SBenchError
from s2sbench.metrics.accuracy import item_correct
from s2sbench.metrics.paired_stats import bootstrap_mean
from s2sbench.reports.run_records import RunData
from s2sbench.reports.sweep_series import Sweep
from s2sbench.scores.store import ScoreRecord

CI_METHOD = "95% percentile bootstrap over items (2000 resamples, seeded)"


@dataclass(frozen=True)
class AccuracyCI:
    """An accuracy (fraction) with its 95% CI and the number of items behind it."""

    acc: float
    low: float
    high: float
    n: int


def accuracy_ci(records: Sequence[ScoreRecord], kind: str, *, seed: int = 1234) -> AccuracyCI:
    """Reference accuracy of ``records`` with its bootstrap CI over items."""
    scores = [item_correct(r.losses, r.gold, kind) for r in records]
    ci = bootstrap_mean(scores, seed=seed)
    return AccuracyCI(ci.diff, ci.low, ci.high, len(scores))


def run_seed(run: RunData) -> int:
    return int(run.config.seed or 1234)


def run_accuracy_cis(run: RunData) -> dict[tuple[str, str], AccuracyCI]:
    """Per (task, condition) of a run: its accuracy CI, where per-item records are readable."""
    out = {}
    for task, cond in run.cells():
        try:
            records = run.records(task, cond)
        except S2SBenchError:
            continue  # neither samples nor an unambiguous store: no band rather than a guess
        if records:
            out[(task, cond)] = accuracy_ci(records, run.kind(task), seed=run_seed(run))
    return out


def sweep_accuracy_cis(sweep: Sweep, task: str, cond: str) -> dict[int, AccuracyCI]:
    """step -> accuracy CI of (task, condition), for every finished checkpoint with records."""
    out = {}
    for entry in sweep.finished():
        results = sweep.results[entry["name"]]
        if results.metrics(task, cond) is None:
            continue
        run = RunData(sweep.root / entry["name"], results)
        try:
            records = run.records(task, cond)
        except S2SBenchError:
            continue
        if records:
            out[int(entry["step"])] = accuracy_ci(records, run.kind(task), seed=run_seed(run))
    return out
