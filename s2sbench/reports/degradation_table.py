"""The degradation tables: T2T vs S2T accuracy, the gap, its CI and McNemar p; and, with the
context-free ``none`` scored, the context-driven share of the degradation."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def degradation_table(degradation: dict[str, dict[str, dict[str, Any]]]) -> Table:
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
            if not d.get("n_items"):
                continue
            first, second = pair.split("->")
            table.add_row(
                task,
                pair,
                str(d["n_items"]),
                f"{100 * d[f'acc_{first}']:.1f}",
                f"{100 * d[f'acc_{second}']:.1f}",
                f"{100 * d['gap']:+.1f}",
                f"[{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]",
                f"{d['mcnemar']['p_value']:.3g}",
            )
    return table


def share_text(share: dict[str, Any]) -> tuple[str, str]:
    """(the share in %, its CI), as the tables print them; ``undefined`` and ``-`` without."""
    if share.get("share") is None:
        return "undefined", "-"
    return (
        f"{100 * share['share']:.0f}",
        f"[{100 * share['ci_low']:.0f}, {100 * share['ci_high']:.0f}]",
    )


def _shares(degradation: dict[str, dict[str, dict[str, Any]]]) -> list[tuple[str, dict]]:
    """(task, context share) for every task whose T2T -> S2T entry has one (``none`` scored)."""
    out = []
    for task, pairs in degradation.items():
        share = (pairs.get("t2t->s2t") or {}).get("context_share")
        if share and share.get("n_items"):
            out.append((task, share))
    return out


def context_share_rows(degradation: dict[str, dict[str, dict[str, Any]]]) -> list[list[str]]:
    """One row per task with a context share, in :data:`CONTEXT_SHARE_HEADER`'s order."""
    rows = []
    for task, share in _shares(degradation):
        value, ci = share_text(share)
        rows.append(
            [
                task,
                str(share["n_items"]),
                f"{100 * share['acc_t2t']:.1f}",
                f"{100 * share['acc_s2t']:.1f}",
                f"{100 * share['acc_none']:.1f}",
                f"{100 * share['context_gain']:+.1f}",
                f"[{100 * share['context_gain_ci_low']:+.1f}, "
                f"{100 * share['context_gain_ci_high']:+.1f}]",
                value,
                ci,
            ]
        )
    return rows


def undefined_share_notes(degradation: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """``<task>: share undefined: <reason>`` for each task whose share is undefined."""
    return [
        f"{task}: share undefined: {share.get('undefined_reason')}"
        for task, share in _shares(degradation)
        if share.get("share") is None
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


def context_share_table(degradation: dict[str, dict[str, dict[str, Any]]]) -> Table | None:
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
