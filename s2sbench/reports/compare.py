"""Comparing runs of the same tasks: paired difference per task with bootstrap CI and McNemar.

Two models (or two recipes' final checkpoints) scored on the same items are
compared item by item with ``metrics.degradation.compare_records``, the same
statistics the T2T-vs-S2T degradation uses, so the two kinds of difference
read alike. With more than two runs each is compared with the first (the
baseline). Sweeps additionally get their curves overlaid (see ``plots``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s2sbench.errors import ConfigError
from s2sbench.metrics.degradation import compare_records
from s2sbench.reports.run_records import RunData, load_run


def default_labels(paths: Sequence[str | Path]) -> list[str]:
    """Directory names, made unique by the parent (or a #number) when two share a name."""
    names = [Path(p).resolve().name for p in paths]
    if len(set(names)) != len(names):
        names = [f"{Path(p).resolve().parent.name}/{Path(p).resolve().name}" for p in paths]
    if len(set(names)) != len(names):  # the same directory twice
        names = [f"{name}#{index}" for index, name in enumerate(names, start=1)]
    return names


def compare_pair(a: RunData, b: RunData, *, seed: int = 1234) -> dict[str, dict[str, Any]]:
    """``{task: {condition: compare_records(A, B)}}`` for every cell both runs scored."""
    out: dict[str, dict[str, Any]] = {}
    b_cells = set(b.cells())
    for task, cond in a.cells():
        if (task, cond) not in b_cells:
            continue
        if a.kind(task) != b.kind(task):
            raise ConfigError(
                f"task {task} is a '{a.kind(task)}' task in one run and "
                f"'{b.kind(task)}' in the other; they cannot be compared"
            )
        stats = compare_records(
            a.records(task, cond), b.records(task, cond), a.kind(task), seed=seed
        )
        out.setdefault(task, {})[cond] = stats
    return out


def compare_runs(
    paths: Sequence[str | Path], labels: Sequence[str] | None = None, *, seed: int = 1234
) -> dict[str, Any]:
    """Load the runs (sweeps: their last checkpoint) and compare each with the first."""
    if len(paths) < 2:
        raise ConfigError("compare needs at least two result directories")
    labels = list(labels) if labels else default_labels(paths)
    if len(labels) != len(paths) or len(set(labels)) != len(labels):
        raise ConfigError(f"need {len(paths)} distinct labels, got {', '.join(labels)}")
    runs = [load_run(p) for p in paths]
    comparisons = []
    for label, run in zip(labels[1:], runs[1:]):
        cells = compare_pair(runs[0], run, seed=seed)
        if not cells:
            raise ConfigError(f"{labels[0]} and {label} share no (task, condition) to compare")
        comparisons.append({"a": labels[0], "b": label, "tasks": cells})
    return {
        "runs": [
            {
                "label": label,
                "path": str(Path(p)),
                "results_path": str(run.path),
                "model": run.config.get("model"),
                "model_args": run.config.get("model_args"),
                "model_id": run.config.get("model_id"),
                "step": _step(run),
            }
            for label, p, run in zip(labels, paths, runs)
        ],
        "comparisons": comparisons,
        "seed": seed,
    }


def _step(run: RunData) -> int | None:
    if run.sweep is None:
        return None
    last = run.sweep.last()
    return int(last[0]["step"]) if last else None


def comparison_rows(report: dict[str, Any]) -> list[list[str]]:
    """Table rows (A, B, task, condition, n, acc A, acc B, diff, CI, p) for text/markdown."""
    rows = []
    for comp in report["comparisons"]:
        for task, by_cond in comp["tasks"].items():
            for cond, d in by_cond.items():
                if not d.get("n_items"):
                    continue
                rows.append(
                    [
                        comp["a"],
                        comp["b"],
                        task,
                        cond,
                        str(d["n_items"]),
                        f"{100 * d['acc_a']:.1f}",
                        f"{100 * d['acc_b']:.1f}",
                        f"{100 * d['gap']:+.1f}",
                        f"[{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]",
                        f"{d['mcnemar']['p_value']:.3g}",
                    ]
                )
    return rows


COMPARISON_HEADER = [
    "A",
    "B",
    "task",
    "condition",
    "n",
    "acc A %",
    "acc B %",
    "A-B pts",
    "95% CI",
    "McNemar p",
]


def comparison_table(report: dict[str, Any]) -> Any:
    """The comparison as a rich table for the terminal."""
    from rich.table import Table

    table = Table(title="paired comparison (A minus B, same items)", title_justify="left")
    for col in COMPARISON_HEADER:
        table.add_column(col, justify="left" if col in ("A", "B", "task", "condition") else "right")
    for row in comparison_rows(report):
        table.add_row(*row)
    return table
