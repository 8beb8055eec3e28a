"""The typed result of an evaluation and the per-item rows of its sample logs.

Kept apart from the evaluator so that reports and sweeps can read results
without importing the machinery that produces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s2sbench.core.cell import Cell
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.metrics.accuracy import item_correct, pairwise_outcomes
from s2sbench.scores.store import ScoreRecord

# results.json layout version: bumped when a key changes meaning or goes away, not when one
# is added. 1: the first versioned layout (results, degradation, skipped, config).
RESULTS_FORMAT_VERSION = 1


@dataclass
class EvalResult:
    """What ``evaluate`` returns: the results.json content plus the raw records."""

    results: dict[str, dict[str, dict[str, Any]]]
    degradation: dict[str, Any]
    skipped: list[dict[str, str]]
    config: dict[str, Any]
    cells: list[Cell]

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": RESULTS_FORMAT_VERSION,
            "results": self.results,
            "degradation": self.degradation,
            "skipped": self.skipped,
            "config": self.config,
        }

    def records(self, task: str, condition: str | Condition) -> list[ScoreRecord]:
        cond = Condition(str(condition))
        for cell in self.cells:
            if cell.task.name == task and cell.condition == cond:
                return cell.records
        raise KeyError(f"no results for {task}/{cond}")


def sample_rows(cell: Cell) -> list[dict[str, Any]]:
    """One row per scored continuation, as written to ``samples_<task>_<condition>.jsonl``.

    ``cell.records`` hold one whole record per item; the prompt of each
    continuation is rendered from the request that carried it (an item heard
    after two different context files was scored as two requests).

    Each row also says how its item fared under the reference rule, so a
    reader needs no metric code: ``correct`` is the item's score (1.0 or 0.0
    for a story; the fraction of its 3 pairs right for a choice question), the
    same on every row of the item; ``pair_correct`` (on each wrong
    continuation's row; null on the right one) is whether the right
    continuation beat this one.
    """
    carrier: dict[tuple[str, int], tuple[ContextRequest, int]] = {}
    for request in cell.requests:
        for local, index in enumerate(request.part or range(len(request.continuations))):
            carrier[(request.item_id, index)] = (request, local)
    kind = cell.task.kind
    rows = []
    for record in cell.records:
        losses = record.losses
        correct = item_correct(losses, record.gold, kind)
        pairs = iter(pairwise_outcomes(losses, record.gold, kind))  # in continuation order
        for index, score in enumerate(record.scores):
            request, local = carrier[(record.item_id, index)]
            rows.append(
                {
                    "item_id": record.item_id,
                    "continuation_index": index,
                    "is_right": index == record.gold,
                    "logprob_sum": score.logprob_sum,
                    "n_tokens": score.n_tokens,
                    "loss": score.loss,
                    "n_chars": record.n_chars[index],
                    "n_bytes": record.n_bytes[index],
                    "prompt": request.render(local),
                    "correct": correct,
                    "pair_correct": None if index == record.gold else next(pairs),
                    **({"extra": dict(score.extra)} if score.extra else {}),
                }
            )
    return rows
