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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from s2sbench.reports.result_fields import extra, number, obj, text, without_none


def _pair_names(pair: str) -> tuple[str, str]:
    first, _, second = pair.partition("->")
    return first, second


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test on paired outcomes: right only in the first / only in the second."""

    a_only: int | None
    b_only: int | None
    p_value: float | None
    unit: str | None = None  # "item" for stories, "pair" for choice questions
    extra: Mapping[str, Any] = field(default_factory=dict)

    KEYS: ClassVar[tuple[str, ...]] = ("a_only", "b_only", "p_value", "unit")

    def to_json(self) -> dict[str, Any]:
        out = {"a_only": self.a_only, "b_only": self.b_only, "p_value": self.p_value}
        return {**out, **without_none([("unit", self.unit)]), **self.extra}

    @classmethod
    def from_json(cls, data: Any, where: str) -> McNemarResult:
        data = obj(data, where)
        return cls(
            a_only=number(data, "a_only", where),
            b_only=number(data, "b_only", where),
            p_value=number(data, "p_value", where),
            unit=text(data, "unit", where),
            extra=extra(data, cls.KEYS),
        )


@dataclass(frozen=True)
class SubjectGap:
    """The gap on one subject's items (sCMMLU), without a CI."""

    n_items: int | None
    gap: float | None
    acc_first: float | None
    acc_second: float | None
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
        data = obj(data, where)
        first, second = (f"acc_{name}" for name in _pair_names(pair))
        return cls(
            n_items=number(data, "n_items", where),
            gap=number(data, "gap", where),
            acc_first=number(data, first, where),
            acc_second=number(data, second, where),
            extra=extra(data, ("n_items", "gap", first, second)),
        )


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

    n_items: int | None
    rule: str | None
    share: float | None
    undefined_reason: str | None
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

    KEYS: ClassVar[tuple[str, ...]] = (
        *("n_items", "rule", *SHARE_GAIN_KEYS),
        *("share", "ci_low", "ci_high", "n_boot_undefined", "undefined_reason"),
    )

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
        data = obj(data, where)
        return cls(
            n_items=number(data, "n_items", where),
            rule=text(data, "rule", where),
            share=number(data, "share", where),
            undefined_reason=text(data, "undefined_reason", where),
            ci_low=number(data, "ci_low", where),
            ci_high=number(data, "ci_high", where),
            n_boot_undefined=number(data, "n_boot_undefined", where),
            extra=extra(data, cls.KEYS),
            **{key: number(data, key, where) for key in SHARE_GAIN_KEYS},
        )


STAT_KEYS = ("gap", "ci_low", "ci_high", "ci_level", "n_boot", "seed")


@dataclass(frozen=True)
class PairDegradation:
    """One task's comparison of a condition pair on the items scored under both.

    With no such item only ``n_items`` (0) and the two accuracies (None) are
    set; otherwise the gap, its CI and ``mcnemar`` are always there.
    """

    pair: str
    n_items: int | None
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
        data = obj(data, where)
        first, second = (f"acc_{name}" for name in _pair_names(pair))
        subjects = data.get("by_subject")
        share = data.get("context_share")
        known = (first, second, "n_items", *STAT_KEYS, "mcnemar", "by_subject", "context_share")
        return cls(
            pair=pair,
            n_items=number(data, "n_items", where),
            acc_first=number(data, first, where),
            acc_second=number(data, second, where),
            mcnemar=None
            if data.get("mcnemar") is None
            else McNemarResult.from_json(data["mcnemar"], f"{where}.mcnemar"),
            by_subject=None
            if subjects is None
            else {
                name: SubjectGap.from_json(s, pair, f"{where}.by_subject.{name}")
                for name, s in obj(subjects, f"{where}.by_subject").items()
            },
            context_share=None
            if share is None
            else ContextShare.from_json(share, f"{where}.context_share"),
            extra=extra(data, known),
            **{key: number(data, key, where) for key in STAT_KEYS},
        )


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
