"""Comparing runs of the same tasks: paired difference per task with bootstrap CI and McNemar.

Two models (or two recipes' final checkpoints) scored on the same items are
compared item by item with ``metrics.degradation.compare_records``, the same
statistics the T2T-vs-S2T degradation uses, so the two kinds of difference
read alike. The first directory is the *baseline*; every later run is
reported as **run minus baseline** (positive: the run is more accurate), the
direction a researcher reads "did the new recipe help?" in. Keys say so
(``acc_run``, ``acc_baseline``, ``diff``, McNemar ``run_only`` /
``baseline_only``), so no reader has to guess. Sweeps additionally get their
curves overlaid (see ``plots``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s2sbench.core.errors import ConfigError
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


DIRECTION = "run minus baseline"


def _as_run_minus_baseline(stats: dict[str, Any]) -> dict[str, Any]:
    """``compare_records(run, baseline)``'s A/B keys renamed to what they are."""
    if not stats.get("n_items"):
        return stats
    out = {
        "n_items": stats["n_items"],
        "acc_run": stats["acc_a"],
        "acc_baseline": stats["acc_b"],
        "diff": stats["gap"],
    }
    out.update({k: v for k, v in stats.items() if k not in ("acc_a", "acc_b", "gap", "mcnemar")})
    mcnemar = stats["mcnemar"]
    out["mcnemar"] = {
        "run_only": mcnemar["a_only"],  # right in the run, wrong in the baseline
        "baseline_only": mcnemar["b_only"],
        "p_value": mcnemar["p_value"],
        "unit": mcnemar["unit"],
    }
    return out


def compare_pair(run: RunData, baseline: RunData, *, seed: int = 1234) -> dict[str, dict[str, Any]]:
    """``{task: {condition: stats of run minus baseline}}`` for every cell both scored."""
    out: dict[str, dict[str, Any]] = {}
    run_cells = set(run.cells())
    for task, cond in baseline.cells():
        if (task, cond) not in run_cells:
            continue
        if run.kind(task) != baseline.kind(task):
            raise ConfigError(
                f"task {task} is a '{baseline.kind(task)}' task in the baseline and "
                f"'{run.kind(task)}' in the other run; they cannot be compared"
            )
        stats = compare_records(
            run.records(task, cond), baseline.records(task, cond), run.kind(task), seed=seed
        )
        out.setdefault(task, {})[cond] = _as_run_minus_baseline(stats)
    return out


def compare_runs(
    paths: Sequence[str | Path], labels: Sequence[str] | None = None, *, seed: int = 1234
) -> dict[str, Any]:
    """Load the runs (sweeps: their last checkpoint); each later run minus the first (baseline)."""
    if len(paths) < 2:
        raise ConfigError("compare needs at least two result directories")
    labels = list(labels) if labels else default_labels(paths)
    if len(labels) != len(paths) or len(set(labels)) != len(labels):
        raise ConfigError(f"need {len(paths)} distinct labels, got {', '.join(labels)}")
    runs = [load_run(p) for p in paths]
    comparisons = []
    for label, run in zip(labels[1:], runs[1:]):
        cells = compare_pair(run, runs[0], seed=seed)
        if not cells:
            raise ConfigError(f"{labels[0]} and {label} share no (task, condition) to compare")
        comparisons.append(
            {"baseline": labels[0], "run": label, "direction": DIRECTION, "tasks": cells}
        )
    return {
        "format": 2,  # 2: run minus baseline with named keys (1 had baseline minus run as A/B)
        "baseline": labels[0],
        "direction": f"each run minus the baseline {labels[0]} (positive: the run is better)",
        "runs": [
            {
                "label": label,
                "path": str(Path(p)),
                "results_path": str(run.path),
                "model": run.config.model,
                "model_args": run.config.get("model_args"),  # as recorded, null included
                "model_id": run.config.model_id,
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
    """Rows in :data:`COMPARISON_HEADER` order, for the terminal, Markdown and HTML."""
    rows = []
    for comp in report["comparisons"]:
        for task, by_cond in comp["tasks"].items():
            for cond, d in by_cond.items():
                if not d.get("n_items"):
                    continue
                rows.append(
                    [
                        comp["baseline"],
                        comp["run"],
                        task,
                        cond,
                        str(d["n_items"]),
                        f"{100 * d['acc_baseline']:.1f}",
                        f"{100 * d['acc_run']:.1f}",
                        f"{100 * d['diff']:+.1f}",
                        f"[{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]",
                        f"{d['mcnemar']['p_value']:.3g}",
                    ]
                )
    return rows


COMPARISON_HEADER = [
    "baseline",
    "run",
    "task",
    "condition",
    "n",
    "acc baseline %",
    "acc run %",
    "run - baseline pts",
    "95% CI (run - baseline)",
    "McNemar p",
]


def comparison_title(report: dict[str, Any]) -> str:
    return (
        f"paired comparison: each run minus the baseline {report['baseline']} "
        "(same items; positive = the run is more accurate)"
    )


def comparison_table(report: dict[str, Any]) -> Any:
    """The comparison as a rich table for the terminal."""
    from rich.table import Table

    table = Table(title=comparison_title(report), title_justify="left")
    for col in COMPARISON_HEADER:
        left = col in ("baseline", "run", "task", "condition")
        table.add_column(col, justify="left" if left else "right")
    for row in comparison_rows(report):
        table.add_row(*row)
    return table
