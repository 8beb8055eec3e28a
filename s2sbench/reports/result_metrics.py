"""The numbers of one (task, condition) cell in results.json, and a cell that was skipped.

A typed, frozen view of ``results.<task>.<condition>``: reports, sweeps and the
CLI read ``metrics.acc`` instead of ``metrics["acc"]``, so a renamed key is a
type error rather than a ``KeyError`` in one report. Keys this version does not
know (a newer s2sbench's metrics) are kept in ``extra`` and written back
unchanged, so ``from_json(to_json(m)) == m`` and ``to_json(from_json(d)) == d``.
An undefined statistic is ``None`` (null in JSON), never NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from s2sbench.reports.result_fields import MalformedResults, extra, number, obj, text

# Written on every cell, null when undefined; then the cascade's ASR group and
# the truncation count, written only when measured.
CORE_KEYS = (
    "n",
    "acc",
    "mean_right_loss",
    "mean_wrong_loss",
    "acc_argmax",
    "acc_sum",
    "acc_per_byte",
    "n_pairs",
    "ties",
)
OPTIONAL_KEYS = ("asr_error_rate", "asr_unit", "empty_transcripts", "truncated_contexts")


@dataclass(frozen=True)
class CellMetrics:
    """Reference accuracy, mean losses and derived views of one task under one condition.

    ``acc`` is the reference pairwise accuracy (a fraction, not a percent);
    ``asr_error_rate`` (WER, or CER when ``asr_unit`` is ``char``) and
    ``empty_transcripts`` exist for cascades on spoken contexts only;
    ``truncated_contexts`` with ``--long-context truncate`` only.
    """

    n: int
    acc: float | None
    mean_right_loss: float | None = None
    mean_wrong_loss: float | None = None
    acc_argmax: float | None = None
    acc_sum: float | None = None
    acc_per_byte: float | None = None
    n_pairs: int | None = None
    ties: int | None = None
    asr_error_rate: float | None = None
    asr_unit: str | None = None
    empty_transcripts: int | None = None
    truncated_contexts: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: getattr(self, key) for key in CORE_KEYS}
        asr = self.asr_unit is not None  # the ASR group is written together
        for key in OPTIONAL_KEYS:
            value = getattr(self, key)
            if value is not None or (asr and key != "truncated_contexts"):
                out[key] = value
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, data: Any, where: str = "metrics") -> CellMetrics:
        data = obj(data, where)
        n, acc = data.get("n"), number(data, "acc", where)
        if not isinstance(n, int) or isinstance(n, bool):
            raise MalformedResults(f"'{where}' lacks a count 'n' or an accuracy 'acc'")
        if "acc" not in data:
            raise MalformedResults(f"'{where}' lacks a count 'n' or an accuracy 'acc'")
        numeric = {
            key: number(data, key, where)
            for key in CORE_KEYS[2:] + OPTIONAL_KEYS
            if key != "asr_unit"
        }
        return cls(
            n=n,
            acc=acc,
            asr_unit=text(data, "asr_unit", where),
            extra=extra(data, CORE_KEYS + OPTIONAL_KEYS),
            **numeric,
        )


@dataclass(frozen=True)
class SkippedCell:
    """A (task, condition) the model cannot score, and the reason it gave."""

    task: str
    condition: str
    reason: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "condition": self.condition, "reason": self.reason, **self.extra}

    @classmethod
    def from_json(cls, data: Any, where: str = "skipped") -> SkippedCell:
        data = obj(data, where)
        return cls(
            task=text(data, "task", where) or "",
            condition=text(data, "condition", where) or "",
            reason=text(data, "reason", where) or "",
            extra=extra(data, ("task", "condition", "reason")),
        )


def parse_metrics(data: Any, where: str = "results") -> dict[str, dict[str, CellMetrics]]:
    """``results``: task -> condition -> :class:`CellMetrics`."""
    shape = "an object mapping task -> condition -> metrics"
    return {
        task: {
            cond: CellMetrics.from_json(m, f"{where}.{task}.{cond}")
            for cond, m in obj(by_cond, f"{where}.{task}", shape).items()
        }
        for task, by_cond in obj(data, where, shape).items()
    }
