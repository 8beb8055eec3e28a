"""The paper's figures: accuracy, mean right/wrong loss and the read-heard gap over steps.

Per task: ``acc_<task>`` (every condition and every sweep on the same axes,
each accuracy curve with its 95% CI band from the per-item records, chance
marked), ``loss_<task>`` (mean right and wrong continuation loss) and
``gap_<task>`` (read minus heard accuracy per checkpoint with its paired
bootstrap CI, exactly the numbers of each checkpoint's degradation table).
With several sweeps, colour tells the condition and line style + marker tell
the sweep, and every legend entry carries its n, so identical or differently
sized runs stay distinguishable. File formats and sidecars: ``figures``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from s2sbench.reports.figures import (
    CHANCE_ACC_PERCENT,
    PlotFiles,
    chance_line,
    color,
    draw_band,
    draw_line,
    n_label,
    new_figure,
    safe_name,
    save_figure,
    series_style,
)
from s2sbench.reports.intervals import CI_METHOD, AccuracyCI, sweep_accuracy_cis
from s2sbench.reports.result_fields import as_float
from s2sbench.reports.results import RunResults
from s2sbench.reports.sweep_series import Sweep

__all__ = ["CHANCE_ACC_PERCENT", "PlotFiles", "plot_run_accuracy", "plot_sweeps"]


def _task_conditions(sweeps: Mapping[str, Sweep]) -> dict[str, list[str]]:
    tasks: dict[str, list[str]] = {}
    for sweep in sweeps.values():
        for task, cond in sweep.cells():
            conds = tasks.setdefault(task, [])
            if cond not in conds:
                conds.append(cond)
    return tasks


def _accuracy_and_loss(
    sweeps: Mapping[str, Sweep], task: str, conds: list[str], out: Path
) -> list[PlotFiles]:
    several = len(sweeps) > 1
    fig_acc, ax_acc = new_figure(f"{task}: accuracy over training", "accuracy (%)")
    fig_loss, ax_loss = new_figure(f"{task}: mean continuation loss", "mean token loss (nats)")
    for run_index, (label, sweep) in enumerate(sweeps.items()):
        for cond_index, cond in enumerate(conds):
            points = sweep.series(task, cond)
            if not points:
                continue
            style = series_style(run_index, cond_index, cond, several)
            name = f"{label} {cond.upper()}" if several else cond.upper()
            n = f" ({n_label([p.n for p in points])})"
            steps = [p.step for p in points]
            base = {"sweep": label, "condition": cond}
            gid = json.dumps({**base, "metric": "acc_percent"})
            draw_line(ax_acc, steps, [100 * p.acc for p in points], style, label=name + n, gid=gid)
            cis: dict[int, AccuracyCI] = sweep_accuracy_cis(sweep, task, cond)
            if all(s in cis for s in steps):  # a band only where every point has its records
                lows = [100 * cis[s].low for s in steps]
                highs = [100 * cis[s].high for s in steps]
                draw_band(ax_acc, steps, lows, highs, style.color, gid, 0.08 if several else 0.16)
            # right: as the accuracy line; wrong: faded, hollow markers
            for metric, suffix, loss_style, alpha in (
                ("mean_right_loss", "right", style, 1.0),
                ("mean_wrong_loss", "wrong", replace(style, hollow=True), 0.45),
            ):
                draw_line(
                    ax_loss,
                    steps,
                    [getattr(p, metric) for p in points],
                    loss_style,
                    alpha=alpha,
                    label=f"{name} {suffix}{n}",
                    gid=json.dumps({**base, "metric": metric}),
                )
    chance_line(ax_acc)
    meta = {"task": task, "x": "step", "sweeps": list(sweeps), "conditions": conds}
    acc_meta = {
        **meta,
        "figure": "accuracy",
        "y": "accuracy (%)",
        "chance_percent": CHANCE_ACC_PERCENT,
        "ci": CI_METHOD,
    }
    loss_meta = {**meta, "figure": "loss", "y": "mean token loss (nats)"}
    return [
        save_figure(fig_acc, ax_acc, out, f"acc_{safe_name(task)}", acc_meta),
        save_figure(fig_loss, ax_loss, out, f"loss_{safe_name(task)}", loss_meta),
    ]


def _gap(sweeps: Mapping[str, Sweep], task: str, out: Path) -> PlotFiles | None:
    """Read minus heard accuracy per checkpoint, with each checkpoint's paired bootstrap CI."""
    several = len(sweeps) > 1
    fig, ax = new_figure(f"{task}: read minus heard accuracy", "gap (accuracy points)")
    drawn = 0
    pairs_seen: list[str] = []
    for run_index, (label, sweep) in enumerate(sweeps.items()):
        for pair in sweep.pairs(task):
            points = sweep.gap_series(task, pair)
            if not points:
                continue
            if pair not in pairs_seen:
                pairs_seen.append(pair)
            pair_index = pairs_seen.index(pair)
            first, second = pair.upper().split("->")
            # colours apart from the accuracy plot's conditions; several runs: style per run
            style = replace(
                series_style(run_index, pair_index, pair, several), color=color(2 + pair_index)
            )
            if not several:
                style = replace(style, linestyle="-", marker="o")
            name = f"read - heard ({first} - {second}, {n_label([p.n for p in points])})"
            if several:
                name = f"{label} {name}"
            steps = [p.step for p in points]
            gid = json.dumps({"sweep": label, "pair": pair, "metric": "gap_points"})
            draw_line(ax, steps, [100 * p.gap for p in points], style, label=name, gid=gid)
            draw_band(
                ax,
                steps,
                [100 * p.ci_low for p in points],
                [100 * p.ci_high for p in points],
                style.color,
                gid,
                0.1 if several else 0.16,
            )
            drawn += 1
    if not drawn:
        return None
    ax.axhline(0.0, color="black", linewidth=0.9, label="no gap (0)")
    meta = {
        "task": task,
        "figure": "gap",
        "x": "step",
        "y": "first condition's accuracy minus the second's, in points",
        "sweeps": list(sweeps),
        "pairs": pairs_seen,
        "ci": "95% paired bootstrap over items, as in each checkpoint's degradation table",
    }
    label = "shaded: 95% CI (paired bootstrap)"
    return save_figure(fig, ax, out, f"gap_{safe_name(task)}", meta, ci_label=label)


def plot_sweeps(sweeps: Mapping[str, Sweep], out_dir: str | Path) -> list[PlotFiles]:
    """Per task: ``acc_<task>``, ``loss_<task>`` and (when a task has a degradation) ``gap_<task>``.

    ``sweeps`` maps a label (the recipe's name) to a loaded sweep. With one
    sweep the condition alone names a line; with several, ``label COND``.
    """
    out = Path(out_dir)
    files: list[PlotFiles] = []
    for task, conds in _task_conditions(sweeps).items():
        files += _accuracy_and_loss(sweeps, task, conds, out)
        gap = _gap(sweeps, task, out)
        if gap is not None:
            files.append(gap)
    return files


def plot_run_accuracy(
    results: RunResults,
    out_dir: str | Path,
    stem: str = "accuracy",
    cis: Mapping[tuple[str, str], AccuracyCI] | None = None,
) -> PlotFiles:
    """One run (no steps): accuracy per task, one bar per condition, 95% CI whiskers, chance."""
    fig, ax = new_figure("accuracy per task and condition", "accuracy (%)", xlabel="task")
    cis = cis or {}
    table = results.results
    tasks = list(table)
    conds: list[str] = []
    for by_cond in table.values():
        conds += [c for c in by_cond if c not in conds]
    width = 0.8 / max(1, len(conds))
    for index, cond in enumerate(conds):
        cells = [(t, task) for t, task in enumerate(tasks) if cond in table[task]]
        xs = [t + index * width for t, _ in cells]
        ys = [100 * as_float(table[task][cond].acc) for _, task in cells]
        ax.bar(xs, ys, width=width, color=color(index), label=cond.upper())
        ci = [cis.get((task, cond)) for _, task in cells]
        gid = json.dumps({"condition": cond, "metric": "acc_percent"})
        if all(ci):
            low = [y - 100 * c.low for y, c in zip(ys, ci) if c]
            high = [100 * c.high - y for y, c in zip(ys, ci) if c]
            first = index == 0
            bars = ax.errorbar(
                xs,
                ys,
                yerr=[low, high],
                fmt="none",
                ecolor="black",
                capsize=4,
                label="95% CI (bootstrap over items)" if first else "_ci",
            )
            bars.lines[2][0].set_gid(gid)  # the whiskers carry the CI into the sidecar
        # an invisible line carries the bar heights into the sidecar
        ax.plot(xs, ys, linestyle="none", gid=gid, label=f"_{cond}")
    ticks = [f"{task}\n({n_label([m.n for m in table[task].values()])})" for task in tasks]
    ax.set_xticks([t + 0.4 - width / 2 for t in range(len(tasks))], ticks)
    ax.set_axisbelow(True)
    chance_line(ax)
    ax.set_ylim(0, 100)
    meta = {
        "figure": "run_accuracy",
        "tasks": tasks,
        "conditions": conds,
        "y": "accuracy (%)",
        "chance_percent": CHANCE_ACC_PERCENT,
        "ci": CI_METHOD if cis else None,
    }
    return save_figure(fig, ax, Path(out_dir), stem, meta)
