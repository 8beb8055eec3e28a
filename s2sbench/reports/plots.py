"""The paper's figures: accuracy and mean right/wrong loss over training steps.

One figure per task and metric, with every condition (T2T, S2T, ...) and
every sweep (recipe) on the same axes, so the read/heard gap and the recipe
difference are both visible. Each figure is written as PNG (for reports),
SVG (for papers) and a JSON sidecar holding the plotted series, read back
from the drawn lines themselves so it cannot disagree with the picture.

Uses matplotlib's object API with the Agg canvas (no pyplot, no display, no
global state), so plotting works headless and in threads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2sbench.sweeps.series import Sweep

CONDITION_STYLE = {"t2t": ("-", "o"), "s2t": ("--", "s"), "t2s": (":", "^"), "s2s": ("-.", "D")}
CHANCE_ACC_PERCENT = 50.0  # every reference accuracy is over right-vs-wrong pairs


@dataclass(frozen=True)
class PlotFiles:
    """The three files of one figure."""

    png: Path
    svg: Path
    json: Path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _figure(title: str, ylabel: str) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _save(fig: Any, ax: Any, out_dir: Path, stem: str, meta: dict[str, Any]) -> PlotFiles:
    """Write PNG + SVG + the sidecar built from the lines that carry a data ``gid``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    series = []
    for line in ax.get_lines():
        gid = line.get_gid()
        if not gid:
            continue
        series.append(
            {
                **json.loads(gid),
                "label": line.get_label(),
                "x": [float(v) for v in line.get_xdata()],
                "y": [float(v) for v in line.get_ydata()],
            }
        )
    if series:
        ax.legend(fontsize="small", loc="best")
    files = PlotFiles(out_dir / f"{stem}.png", out_dir / f"{stem}.svg", out_dir / f"{stem}.json")
    fig.savefig(files.png, format="png")
    fig.savefig(files.svg, format="svg", metadata={"Date": None})
    files.json.write_text(
        json.dumps({**meta, "series": series}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return files


def _color(index: int) -> str:
    return f"C{index % 10}"


def plot_sweeps(sweeps: Mapping[str, Sweep], out_dir: str | Path) -> list[PlotFiles]:
    """Per task: ``acc_<task>`` and ``loss_<task>`` with all conditions and sweeps overlaid.

    ``sweeps`` maps a label (the recipe's name) to a loaded sweep. With one
    sweep the condition alone names a line; with several, ``label COND``.
    """
    out = Path(out_dir)
    tasks: dict[str, list[str]] = {}
    for sweep in sweeps.values():
        for task, cond in sweep.cells():
            conds = tasks.setdefault(task, [])
            if cond not in conds:
                conds.append(cond)
    several = len(sweeps) > 1
    files: list[PlotFiles] = []
    for task, conds in tasks.items():
        fig_acc, ax_acc = _figure(f"{task}: accuracy over training", "accuracy (%)")
        fig_loss, ax_loss = _figure(f"{task}: mean continuation loss", "mean token loss (nats)")
        for sweep_index, (label, sweep) in enumerate(sweeps.items()):
            for cond_index, cond in enumerate(conds):
                points = sweep.series(task, cond)
                if not points:
                    continue
                # one colour per recipe when overlaid (line style tells the condition)
                color = sweep_index if several else cond_index
                style, marker = CONDITION_STYLE.get(cond, ("-", "x"))
                name = f"{label} {cond.upper()}" if several else cond.upper()
                steps = [p.step for p in points]
                base = {"sweep": label, "condition": cond}
                ax_acc.plot(
                    steps,
                    [100 * p.acc for p in points],
                    style,
                    marker=marker,
                    color=_color(color),
                    label=name,
                    gid=json.dumps({**base, "metric": "acc_percent"}),
                )
                ax_loss.plot(
                    steps,
                    [p.mean_right_loss for p in points],
                    style,
                    marker=marker,
                    color=_color(color),
                    label=f"{name} right",
                    gid=json.dumps({**base, "metric": "mean_right_loss"}),
                )
                ax_loss.plot(
                    steps,
                    [p.mean_wrong_loss for p in points],
                    style,
                    marker=marker,
                    color=_color(color),
                    alpha=0.45,
                    markerfacecolor="none",
                    label=f"{name} wrong",
                    gid=json.dumps({**base, "metric": "mean_wrong_loss"}),
                )
        ax_acc.axhline(CHANCE_ACC_PERCENT, color="grey", linewidth=0.8, linestyle=":")
        meta = {"task": task, "x": "step", "sweeps": list(sweeps), "conditions": conds}
        files.append(
            _save(
                fig_acc,
                ax_acc,
                out,
                f"acc_{_safe(task)}",
                {
                    **meta,
                    "figure": "accuracy",
                    "y": "accuracy (%)",
                    "chance_percent": CHANCE_ACC_PERCENT,
                },
            )
        )
        files.append(
            _save(
                fig_loss,
                ax_loss,
                out,
                f"loss_{_safe(task)}",
                {**meta, "figure": "loss", "y": "mean token loss (nats)"},
            )
        )
    return files


def plot_run_accuracy(
    results: Mapping[str, Any], out_dir: str | Path, stem: str = "accuracy"
) -> PlotFiles:
    """One run (no steps): accuracy per task, one bar per condition, chance marked."""
    fig, ax = _figure("accuracy per task and condition", "accuracy (%)")
    ax.set_xlabel("task")
    tasks = list(results["results"])
    conds: list[str] = []
    for by_cond in results["results"].values():
        conds += [c for c in by_cond if c not in conds]
    width = 0.8 / max(1, len(conds))
    for index, cond in enumerate(conds):
        xs = [t + index * width for t, task in enumerate(tasks) if cond in results["results"][task]]
        ys = [
            100 * results["results"][task][cond]["acc"]
            for task in tasks
            if cond in results["results"][task]
        ]
        ax.bar(xs, ys, width=width, color=_color(index), label=cond.upper())
        # an invisible line carries the bar heights into the sidecar
        ax.plot(
            xs,
            ys,
            linestyle="none",
            gid=json.dumps({"condition": cond, "metric": "acc_percent"}),
            label=f"_{cond}",
        )
    ax.set_xticks([t + 0.4 - width / 2 for t in range(len(tasks))], tasks, fontsize="small")
    ax.axhline(CHANCE_ACC_PERCENT, color="grey", linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 100)
    return _save(
        fig,
        ax,
        Path(out_dir),
        stem,
        {"figure": "run_accuracy", "tasks": tasks, "conditions": conds, "y": "accuracy (%)"},
    )
