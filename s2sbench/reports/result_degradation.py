"""The degradation block of results.json, typed: per task and condition pair, the gap.

``degradation.<task>.<pair>`` (pair ``t2t->s2t`` or ``t2s->s2s``) holds the
accuracy under each condition of the pair on the items scored in both, the gap
(first - second) with its paired bootstrap CI, the exact McNemar test, a
per-subject breakdown and, with ``none`` scored, the context-driven share. The
accuracies are written under condition-named keys (``acc_t2t``, ``acc_s2t``);
here they are ``acc_first`` and ``acc_second`` of the pair. Unknown keys are
kept in ``extra`` on every level so a round trip loses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s2sbench.core.strict_json import json_safe
from s2sbench.reports.result_fields import obj, read_fields, without_none

if TYPE_CHECKING:
    from s2sbench.metrics.degradation import PairComparison


def _pair_names(pair: str) -> tuple[str, str]:
    first, _, second = pair.partition("->")
    return first, second


def _json_keys(pair: str) -> dict[str, str]:
    """Field -> JSON key where they differ: ``acc_first`` is written as ``acc_t2t``."""
    first, second = _pair_names(pair)
    return {"acc_first": f"acc_{first}", "acc_second": f"acc_{second}"}


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test on paired outcomes: right only in the first / only in the second."""

    a_only: int | None = None
    b_only: int | None = None
    p_value: float | None = None
    unit: str | None = None  # "item" for stories, "pair" for choice questions
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {"a_only": self.a_only, "b_only": self.b_only, "p_value": self.p_value}
        return {**out, **without_none([("unit", self.unit)]), **self.extra}

    @classmethod
    def from_json(cls, data: Any, where: str) -> McNemarResult:
        return read_fields(cls, data, where)


@dataclass(frozen=True)
class SubjectGap:
    """The gap on one subject's items (sCMMLU), without a CI."""

    n_items: int | None = None
    gap: float | None = None
    acc_first: float | None = None
    acc_second: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self, pair: str) -> dict[str, Any]:
        first, second = _pair_names(pair)
        return {
            "n_items": self.n_items,
            "gap": self.gap,
            f"acc_{first}": self.acc_first,
            f"acc_{second}": self.acc_second,
            **self.extra,
        }

    @classmethod
    def from_json(cls, data: Any, pair: str, where: str) -> SubjectGap:
        return read_fields(cls, data, where, renames=_json_keys(pair))


SHARE_GAIN_KEYS = (
    "acc_t2t",
    "acc_s2t",
    "acc_none",
    "context_gain",
    "context_gain_ci_low",
    "context_gain_ci_high",
    "ci_level",
    "n_boot",
    "seed",
)


@dataclass(frozen=True)
class ContextShare:
    """(T2T - S2T) / (T2T - none) with its CI, or ``share`` None and ``undefined_reason``.

    The gain block (accuracies, ``context_gain`` = T2T - none with its CI, the
    bootstrap's settings) is None when no item was scored in all three.
    """

    n_items: int | None = None
    rule: str | None = None
    share: float | None = None
    undefined_reason: str | None = None
    acc_t2t: float | None = None
    acc_s2t: float | None = None
    acc_none: float | None = None
    context_gain: float | None = None
    context_gain_ci_low: float | None = None
    context_gain_ci_high: float | None = None
    ci_level: float | None = None
    n_boot: int | None = None
    seed: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n_boot_undefined: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        gain = {key: getattr(self, key) for key in SHARE_GAIN_KEYS}
        written = any(value is not None for value in gain.values())
        out: dict[str, Any] = {"n_items": self.n_items, "rule": self.rule}
        out.update(gain if written else {})
        out["share"] = self.share
        if written:  # the CI is written, null when undefined, whenever the gain is
            out.update(ci_low=self.ci_low, ci_high=self.ci_high)
        if self.n_boot_undefined is not None:
            out["n_boot_undefined"] = self.n_boot_undefined
        out["undefined_reason"] = self.undefined_reason
        return {**out, **self.extra}

    @classmethod
    def from_json(cls, data: Any, where: str) -> ContextShare:
        return read_fields(cls, data, where)


STAT_KEYS = ("gap", "ci_low", "ci_high", "ci_level", "n_boot", "seed")


@dataclass(frozen=True)
class PairDegradation:
    """One task's comparison of a condition pair on the items scored under both.

    With no such item only ``n_items`` (0) and the two accuracies (None) are
    set; otherwise the gap, its CI and ``mcnemar`` are always there.
    """

    pair: str
    n_items: int | None = None
    acc_first: float | None = None
    acc_second: float | None = None
    gap: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    n_boot: int | None = None
    seed: int | None = None
    mcnemar: McNemarResult | None = None
    by_subject: Mapping[str, SubjectGap] | None = None
    context_share: ContextShare | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def conditions(self) -> tuple[str, str]:
        """The pair's (first, second) condition names: ``("t2t", "s2t")``."""
        return _pair_names(self.pair)

    def to_json(self) -> dict[str, Any]:
        first, second = self.conditions
        out: dict[str, Any] = {f"acc_{first}": self.acc_first, f"acc_{second}": self.acc_second}
        out["n_items"] = self.n_items
        if self.mcnemar is not None:  # the statistics exist together, on any paired item
            out.update({key: getattr(self, key) for key in STAT_KEYS})
            out["mcnemar"] = self.mcnemar.to_json()
        if self.by_subject is not None:
            out["by_subject"] = {k: v.to_json(self.pair) for k, v in self.by_subject.items()}
        if self.context_share is not None:
            out["context_share"] = self.context_share.to_json()
        return {**out, **self.extra}

    @classmethod
    def from_json(cls, data: Any, pair: str, where: str) -> PairDegradation:
        """The accuracies are read from the pair's condition-named keys (``acc_t2t``), in the
        entry and in its per-subject rows."""
        return read_fields(cls, data, where, renames=_json_keys(pair), given={"pair": pair})


def degradation_results(
    comparisons: Sequence[PairComparison],
) -> dict[str, dict[str, PairDegradation]]:
    """``degradation`` of a run, typed straight from the metrics' comparisons.

    An undefined statistic (NaN) becomes None, as JSON writes it; a key the
    metrics add without a field here is a ``TypeError``, not a silent loss.
    """
    out: dict[str, dict[str, PairDegradation]] = {}
    for c in comparisons:
        stats = json_safe(c.stats)
        mcnemar, subjects = stats.pop("mcnemar", None), stats.pop("by_subject", None)
        share = None if c.share is None else ContextShare(**json_safe(c.share))
        entry = PairDegradation(
            pair=f"{c.first.value}->{c.second.value}",
            acc_first=stats.pop("acc_a", None),
            acc_second=stats.pop("acc_b", None),
            mcnemar=None if mcnemar is None else McNemarResult(**mcnemar),
            by_subject=None if subjects is None else {
                name: SubjectGap(
                    n_items=s["n_items"], gap=s["gap"], acc_first=s["acc_a"], acc_second=s["acc_b"]
                )
                for name, s in subjects.items()
            },
            context_share=share,
            **stats,
        )  # fmt: skip
        out.setdefault(c.task, {})[entry.pair] = entry
    return out


def parse_degradation(
    data: Any, where: str = "degradation"
) -> dict[str, dict[str, PairDegradation]]:
    """``degradation``: task -> pair -> :class:`PairDegradation`."""
    shape = "an object mapping task -> pair -> statistics"
    return {
        task: {
            pair: PairDegradation.from_json(d, pair, f"{where}.{task}.{pair}")
            for pair, d in obj(by_pair, f"{where}.{task}", shape).items()
        }
        for task, by_pair in obj(data, where, shape).items()
    }
