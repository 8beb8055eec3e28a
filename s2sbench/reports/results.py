"""The typed result of an evaluation and the per-item rows of its sample logs.

Kept apart from the evaluator so that reports and sweeps can read results
without importing the machinery that produces them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from s2sbench.core.cell import Cell
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.metrics.accuracy import item_correct, pairwise_outcomes
from s2sbench.reports.result_degradation import PairDegradation, parse_degradation
from s2sbench.reports.result_fields import ABSENT, MalformedResults, obj, read_fields
from s2sbench.reports.result_metrics import CellMetrics, SkippedCell
from s2sbench.scores.store import ScoreRecord

# results.json layout version: bumped when a key changes meaning or goes away, not when one
# is added. 1: the first versioned layout (results, degradation, skipped, config).
RESULTS_FORMAT_VERSION = 1


@dataclass(frozen=True)
class TaskInfo:
    """What ``config.tasks.<name>`` records of a scored task."""

    version: str | int | float | None = None  # as the task file gives it
    source: str | None = None
    kind: str | None = None
    lang: str | None = None
    n_items: int | None = None

    @classmethod
    def from_json(cls, data: Any, where: str) -> TaskInfo:
        return read_fields(cls, data, where)


@dataclass(frozen=True)
class RecordedConfig(Mapping[str, Any]):
    """``config``: the run's settings and provenance, an open-ended mapping (a newer version,
    a plugin or the run options add keys), with typed accessors for the keys reports read."""

    data: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def model(self) -> str | None:
        return self.data.get("model")

    @property
    def model_id(self) -> str | None:
        return self.data.get("model_id")

    @property
    def model_args(self) -> Mapping[str, Any]:
        return self.data.get("model_args") or {}

    @property
    def conditions(self) -> list[str]:
        return list(self.data.get("conditions") or [])

    @property
    def template(self) -> Mapping[str, Any]:
        return self.data.get("template") or {}

    @property
    def versions(self) -> Mapping[str, Any]:
        return self.data.get("versions") or {}

    @property
    def seed(self) -> int | None:
        return self.data.get("seed")

    @property
    def tasks(self) -> dict[str, TaskInfo]:
        return {
            name: TaskInfo.from_json(spec, f"config.tasks.{name}")
            for name, spec in (self.data.get("tasks") or {}).items()
        }

    def task(self, name: str) -> TaskInfo:
        return self.tasks.get(name, TaskInfo())

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)

    @classmethod
    def from_json(cls, data: Any, where: str = "config") -> RecordedConfig:
        data = obj(data, where)
        tasks = data.get("tasks")
        if tasks is not None:
            for name, spec in obj(tasks, f"{where}.tasks").items():
                TaskInfo.from_json(spec, f"{where}.tasks.{name}")
        for key in ("model_args", "template", "versions"):
            if data.get(key) is not None:
                obj(data[key], f"{where}.{key}")
        if "conditions" in data and not isinstance(data["conditions"], list):
            raise MalformedResults(f"'{where}.conditions' is not a list")
        return cls(data)


@dataclass(frozen=True)
class RunResults:
    """The content of results.json: metrics per cell, degradation, skipped cells, config.

    ``from_json`` checks the shape (a :class:`MalformedResults` names the bad
    key) and ``to_json`` writes the same JSON back, key for key; top-level keys
    it does not know stay in ``extra``.
    """

    results: Mapping[str, Mapping[str, CellMetrics]]
    degradation: Mapping[str, Mapping[str, PairDegradation]] = field(default_factory=dict)
    skipped: tuple[SkippedCell, ...] = ()
    config: RecordedConfig = field(default_factory=RecordedConfig)
    # the first files carried no format_version: they are version 1, whatever is current
    format_version: int = field(default=RESULTS_FORMAT_VERSION, metadata={ABSENT: 1})
    extra: Mapping[str, Any] = field(default_factory=dict)

    def cell_names(self) -> list[tuple[str, str]]:
        """Every scored (task, condition), in the file's order."""
        return [(t, c) for t, by_cond in self.results.items() for c in by_cond]

    def metrics(self, task: str, condition: str) -> CellMetrics | None:
        return self.results.get(task, {}).get(condition)

    def pair(self, task: str, pair: str) -> PairDegradation | None:
        return self.degradation.get(task, {}).get(pair)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "results": {
                t: {c: m.to_json() for c, m in by_cond.items()}
                for t, by_cond in self.results.items()
            },
            "degradation": {
                t: {p: d.to_json() for p, d in by_pair.items()}
                for t, by_pair in self.degradation.items()
            },
            "skipped": [s.to_json() for s in self.skipped],
            "config": self.config.to_json(),
            **self.extra,
        }

    @classmethod
    def from_json(cls, data: Any) -> RunResults:
        if not isinstance(data, dict):
            raise MalformedResults("the file is not a JSON object")
        readers = {"degradation": parse_degradation, "config": RecordedConfig.from_json}
        return read_fields(RunResults, data, "", readers=readers)


@dataclass(frozen=True)
class EvalResult(RunResults):
    """What ``evaluate`` returns: the results.json content plus the raw records."""

    cells: list[Cell] = field(default_factory=list, compare=False, repr=False)

    def saved(self) -> RunResults:
        """The results.json content alone, without the records (what a sweep keeps)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(RunResults)}
        return RunResults(**fields)

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
