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
from typing import TYPE_CHECKING, Any

from s2sbench.core.strict_json import json_safe
from s2sbench.reports.result_fields import read_fields, read_value

if TYPE_CHECKING:
    from s2sbench.metrics.accuracy import TaskMetrics
    from s2sbench.metrics.wer import WERResult

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
    def measured(
        cls, metrics: TaskMetrics, asr: WERResult | None = None, truncated: int | None = None
    ) -> CellMetrics:
        """A cell's metrics straight from the metric code: the reference numbers, the
        cascade's transcript error on spoken contexts, the truncation count if counted.
        An undefined statistic (NaN) becomes None, as JSON writes it."""
        values = json_safe(metrics.to_dict())
        if asr is not None:
            values.update(
                asr_error_rate=json_safe(asr.wer), asr_unit=asr.unit, empty_transcripts=asr.empty
            )
        return cls(**values, truncated_contexts=truncated)

    @classmethod
    def from_json(cls, data: Any, where: str = "metrics") -> CellMetrics:
        return read_fields(cls, data, where)


@dataclass(frozen=True)
class SkippedCell:
    """A (task, condition) the model cannot score, and the reason it gave."""

    task: str = ""
    condition: str = ""
    reason: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "condition": self.condition, "reason": self.reason, **self.extra}

    @classmethod
    def from_json(cls, data: Any, where: str = "skipped") -> SkippedCell:
        return read_fields(cls, data, where)


def parse_metrics(data: Any, where: str = "results") -> dict[str, dict[str, CellMetrics]]:
    """``results``: task -> condition -> :class:`CellMetrics`."""
    return read_value(Mapping[str, Mapping[str, CellMetrics]], data, where, {})
