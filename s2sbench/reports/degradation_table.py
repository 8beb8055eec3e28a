"""The degradation table: T2T vs S2T accuracy, the gap, its CI and McNemar p."""

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
