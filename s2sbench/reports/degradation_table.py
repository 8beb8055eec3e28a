"""The degradation tables: T2T vs S2T accuracy, the gap, its CI and McNemar p; and, with the
context-free ``none`` scored, the context-driven share of the degradation."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table

from s2sbench.reports.result_degradation import ContextShare, PairDegradation
from s2sbench.reports.result_fields import as_float

Degradation = Mapping[str, Mapping[str, PairDegradation]]


def _pts(value: float | int | None, sign: str = "") -> str:
    return f"{100 * as_float(value):{sign}.1f}"


def degradation_table(degradation: Degradation) -> Table:
    table = Table(title="intelligence degradation (read -> heard)", title_justify="left")
    columns = (
        "task",
        "pair",
        "n",
        "acc read %",
        "acc heard %",
        "gap (read - heard) pts",
        "95% CI of gap",
        "McNemar p",
    )
    for col in columns:
        table.add_column(col, justify="left" if col in ("task", "pair") else "right")
    for task, pairs in degradation.items():
        for pair, d in pairs.items():
            if not d.n_items:
                continue
            table.add_row(
                task,
                pair,
                str(d.n_items),
                _pts(d.acc_first),
                _pts(d.acc_second),
                _pts(d.gap, "+"),
                f"[{_pts(d.ci_low, '+')}, {_pts(d.ci_high, '+')}]",
                f"{as_float(d.mcnemar.p_value if d.mcnemar else None):.3g}",
            )
    return table


def share_text(share: ContextShare) -> tuple[str, str]:
    """(the share in %, its CI), as the tables print them; ``undefined`` and ``-`` without."""
    if share.share is None:
        return "undefined", "-"
    low, high = as_float(share.ci_low), as_float(share.ci_high)
    return f"{100 * share.share:.0f}", f"[{100 * low:.0f}, {100 * high:.0f}]"


def _shares(degradation: Degradation) -> list[tuple[str, ContextShare]]:
    """(task, context share) for every task whose T2T -> S2T entry has one (``none`` scored)."""
    out = []
    for task, pairs in degradation.items():
        entry = pairs.get("t2t->s2t")
        share = entry.context_share if entry else None
        if share and share.n_items:
            out.append((task, share))
    return out


def context_share_rows(degradation: Degradation) -> list[list[str]]:
    """One row per task with a context share, in :data:`CONTEXT_SHARE_HEADER`'s order."""
    rows = []
    for task, share in _shares(degradation):
        value, ci = share_text(share)
        rows.append(
            [
                task,
                str(share.n_items),
                _pts(share.acc_t2t),
                _pts(share.acc_s2t),
                _pts(share.acc_none),
                _pts(share.context_gain, "+"),
                f"[{_pts(share.context_gain_ci_low, '+')}, "
                f"{_pts(share.context_gain_ci_high, '+')}]",
                value,
                ci,
            ]
        )
    return rows


def undefined_share_notes(degradation: Degradation) -> list[str]:
    """``<task>: share undefined: <reason>`` for each task whose share is undefined."""
    return [
        f"{task}: share undefined: {share.undefined_reason}"
        for task, share in _shares(degradation)
        if share.share is None
    ]


CONTEXT_SHARE_HEADER = (
    "task",
    "n",
    "acc read %",
    "acc heard %",
    "acc none %",
    "gain (read-none) pts",
    "95% CI of gain",
    "share %",
    "95% CI of share",
)


def context_share_table(degradation: Degradation) -> Table | None:
    """How much of the context's benefit hearing loses; None when no task scored ``none``."""
    rows = context_share_rows(degradation)
    if not rows:
        return None
    table = Table(
        title="context-driven share of the degradation: share = (read - heard) / (read - none)",
        title_justify="left",
    )
    for col in CONTEXT_SHARE_HEADER:
        table.add_column(col, justify="left" if col == "task" else "right", no_wrap=col == "task")
    for row in rows:
        table.add_row(*row)
    return table
