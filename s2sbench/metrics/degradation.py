"""Intelligence degradation: the accuracy drop from reading (T2T) to hearing (S2T).

For each task scored under both conditions of a pair, on the items present
in both: accuracy in each, the gap (T2T - S2T) with a seeded 95% paired
bootstrap CI over items, an exact McNemar test, and a per-subject breakdown.
The item score is the fraction of its reference pairs that are right (0/1
for stories, k/3 for sCMMLU); McNemar runs on the reference pairs themselves
(for sCMMLU the 3 pairs of a question are not independent, so read its p as
approximate there; the bootstrap resamples whole questions and is exact in
that respect). With ``none`` scored, the T2T -> S2T entry also carries the
context-driven share of the degradation (:mod:`s2sbench.metrics.context_share`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s2sbench.core.conditions import Condition
from s2sbench.metrics.accuracy import item_correct, pairwise_outcomes
from s2sbench.metrics.context_share import context_share
from s2sbench.metrics.paired_stats import mcnemar_exact, paired_bootstrap

if TYPE_CHECKING:
    from s2sbench.core.cell import Cell
    from s2sbench.scores.store import ScoreRecord

CONDITION_PAIRS = ((Condition.T2T, Condition.S2T), (Condition.T2S, Condition.S2S))


def compare_records(
    a: Sequence[ScoreRecord],
    b: Sequence[ScoreRecord],
    kind: str,
    *,
    subjects: dict[str, str | None] | None = None,
    seed: int = 1234,
    n_boot: int = 2000,
) -> dict[str, Any]:
    """Paired comparison of the same items scored two ways (A minus B)."""
    by_id_b = {r.item_id: r for r in b}
    pairs = [(r, by_id_b[r.item_id]) for r in a if r.item_id in by_id_b]
    if not pairs:
        return {"n_items": 0}
    score_a = [item_correct(x.losses, x.gold, kind) for x, _ in pairs]
    score_b = [item_correct(y.losses, y.gold, kind) for _, y in pairs]
    units_a = [o for x, _ in pairs for o in pairwise_outcomes(x.losses, x.gold, kind)]
    units_b = [o for _, y in pairs for o in pairwise_outcomes(y.losses, y.gold, kind)]
    ci = paired_bootstrap(score_a, score_b, n_boot=n_boot, seed=seed)
    out: dict[str, Any] = {
        "n_items": len(pairs),
        "acc_a": sum(score_a) / len(pairs),
        "acc_b": sum(score_b) / len(pairs),
        "gap": ci.diff,
        "ci_low": ci.low,
        "ci_high": ci.high,
        "ci_level": ci.level,
        "n_boot": ci.n_boot,
        "seed": ci.seed,
        "mcnemar": {
            **mcnemar_exact(units_a, units_b).to_dict(),
            "unit": "item" if kind == "story" else "pair",
        },
    }
    if subjects and any(subjects.get(x.item_id) for x, _ in pairs):
        groups: dict[str, list[int]] = defaultdict(list)
        for index, (x, _) in enumerate(pairs):
            groups[subjects.get(x.item_id) or "unknown"].append(index)
        out["by_subject"] = {
            name: {
                "n_items": len(idx),
                "acc_a": sum(score_a[i] for i in idx) / len(idx),
                "acc_b": sum(score_b[i] for i in idx) / len(idx),
                "gap": sum(score_a[i] - score_b[i] for i in idx) / len(idx),
            }
            for name, idx in sorted(groups.items())
        }
    return out


@dataclass(frozen=True)
class PairComparison:
    """One task's condition pair compared on its shared items: ``compare_records``'s
    statistics (``acc_a`` = the first condition) and, for T2T -> S2T with ``none``
    scored, ``context_share``'s."""

    task: str
    first: Condition
    second: Condition
    stats: dict[str, Any]
    share: dict[str, Any] | None = None


def pair_comparisons(cells: Sequence[Cell], *, seed: int = 1234) -> list[PairComparison]:
    """Every condition pair present in ``cells``, in the cells' order.

    With the context-free ``none`` scored too, ``t2t->s2t`` also carries the
    context-driven share: (T2T - S2T) / (T2T - none) with its CI, or null and
    the reason (see :mod:`s2sbench.metrics.context_share`).
    """
    by_key = {(c.task.name, c.condition): c for c in cells}
    found = []
    for cell in cells:
        for first, second in CONDITION_PAIRS:
            if cell.condition != first or (cell.task.name, second) not in by_key:
                continue
            other = by_key[(cell.task.name, second)]
            subjects = {item.id: item.subject for item in cell.task.items}
            stats = compare_records(
                cell.records, other.records, cell.task.kind, subjects=subjects, seed=seed
            )
            none = by_key.get((cell.task.name, Condition.NONE))
            share = None
            if first is Condition.T2T and none is not None:
                share = context_share(
                    cell.records, other.records, none.records, cell.task.kind, seed=seed
                )
            found.append(PairComparison(cell.task.name, first, second, stats, share))
    return found
