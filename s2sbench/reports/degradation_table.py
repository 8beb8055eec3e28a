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
    """(the share in %, its CI or why it is undefined), as the tables print them."""
    if share.get("share") is None:
        return "undefined", str(share.get("undefined_reason") or "")
    return (
        f"{100 * share['share']:.0f}",
        f"[{100 * share['ci_low']:.0f}, {100 * share['ci_high']:.0f}]",
    )


def context_share_rows(degradation: dict[str, dict[str, dict[str, Any]]]) -> list[list[str]]:
    """One row per task whose T2T -> S2T entry holds a context share (``none`` scored)."""
    rows = []
    for task, pairs in degradation.items():
        share = (pairs.get("t2t->s2t") or {}).get("context_share")
        if not share or not share.get("n_items"):
            continue
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


CONTEXT_SHARE_HEADER = (
    "task",
    "n",
    "acc read %",
    "acc heard %",
    "acc no context %",
    "context gain (read - none) pts",
    "95% CI of gain",
    "share % (read - heard)/(read - none)",
    "95% CI of share",
)


def context_share_table(degradation: dict[str, dict[str, dict[str, Any]]]) -> Table | None:
    """How much of the context's benefit hearing loses; None when no task scored ``none``."""
    rows = context_share_rows(degradation)
    if not rows:
        return None
    table = Table(
        title="context-driven share of the degradation (read - heard) / (read - none)",
        title_justify="left",
    )
    for col in CONTEXT_SHARE_HEADER:
        table.add_column(col, justify="left" if col == "task" else "right")
    for row in rows:
        table.add_row(*row)
    return table
