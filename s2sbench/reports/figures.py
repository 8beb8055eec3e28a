"""Figure plumbing shared by every plot: paper-ready sizes, styles, and the files written.

Each figure is written as a 300 dpi PNG (slides, reports), an SVG and a PDF
(papers; text as glyph paths, so no font is needed to open them) and a JSON
sidecar holding the plotted numbers. The sidecar is read back from the drawn
artists themselves (lines and CI-band polygons that carry a data ``gid``), so
it cannot disagree with the picture.

Uses matplotlib's object API with the Agg canvas (no pyplot, no display, no
global state), so plotting works headless and in threads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DPI = 300
FIGSIZE = (7.0, 4.4)  # inches: 2100 x 1320 px at 300 dpi; one slide column or a full paper width
FONT: dict[Any, Any] = {  # rcParams while a figure is drawn
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9,
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}
CHANCE_ACC_PERCENT = 50.0  # every reference accuracy is over right-vs-wrong pairs
CI_LABEL = "shaded: 95% CI (bootstrap over items)"
# single sweep: line style and marker tell the condition
CONDITION_STYLE = {
    "t2t": ("-", "o"),
    "s2t": ("--", "s"),
    "t2s": (":", "^"),
    "s2s": ("-.", "D"),
    "none": (":", "x"),  # the context-free baseline
}
# overlaid runs: line style and marker tell the run (colour tells the condition), so two runs
# with identical numbers still show both: a filled marker inside a larger hollow one
RUN_STYLE: tuple[tuple[Any, str], ...] = (
    ("-", "o"),
    ("--", "s"),
    (":", "^"),
    ("-.", "D"),
    ((0, (5, 1, 1, 1)), "v"),
)


@dataclass(frozen=True)
class PlotFiles:
    """The four files of one figure."""

    png: Path
    svg: Path
    json: Path
    pdf: Path


@dataclass(frozen=True)
class LineStyle:
    """How one series is drawn."""

    linestyle: Any
    marker: str
    color: str
    hollow: bool = False
    markersize: float = 6.0


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def color(index: int) -> str:
    return f"C{index % 10}"


def series_style(run_index: int, cond_index: int, cond: str, several_runs: bool) -> LineStyle:
    """Colour per condition; line style + marker per condition (one run) or per run (several)."""
    if not several_runs:
        linestyle, marker = CONDITION_STYLE.get(cond, ("-", "x"))
        return LineStyle(linestyle, marker, color(cond_index))
    linestyle, marker = RUN_STYLE[run_index % len(RUN_STYLE)]
    return LineStyle(
        linestyle, marker, color(cond_index), run_index > 0, 6.0 + 2.0 * min(run_index, 3)
    )


def n_label(ns: Sequence[int]) -> str:
    """``n=46``, or ``n=40-46`` when checkpoints were scored on different item counts."""
    low, high = min(ns), max(ns)
    return f"n={low}" if low == high else f"n={low}-{high}"


def new_figure(title: str, ylabel: str, xlabel: str = "training step") -> tuple[Any, Any]:
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(FONT):
        fig = Figure(figsize=FIGSIZE, dpi=100, layout="constrained")
        ax = fig.add_subplot()
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    return fig, ax


def draw_line(
    ax: Any, xs: Sequence[float], ys: Sequence[float], style: LineStyle, **kw: Any
) -> Any:
    """One series; ``gid`` (JSON) in ``kw`` marks it for the sidecar."""
    (line,) = ax.plot(
        xs,
        ys,
        linestyle=style.linestyle,
        marker=style.marker,
        color=style.color,
        markersize=style.markersize,
        markerfacecolor="none" if style.hollow else style.color,
        **kw,
    )
    return line


def draw_band(
    ax: Any,
    xs: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    col: str,
    gid: str,
    alpha: float = 0.16,
) -> None:
    """A CI band as one polygon: upper bound left to right, then lower bound right to left."""
    xs, lows, highs = list(xs), list(lows), list(highs)
    (patch,) = ax.fill(
        xs + xs[::-1], highs + lows[::-1], color=col, alpha=alpha, linewidth=0, label="_band"
    )
    patch.set_gid(gid)


def chance_line(ax: Any) -> None:
    ax.axhline(CHANCE_ACC_PERCENT, color="grey", linewidth=1.0, linestyle=":", label="chance (50%)")


LEGEND_CHARS = 90  # about what fits in one legend row across the figure at 9 pt


def legend_columns(labels: Sequence[str]) -> int:
    """The most columns (up to 3) whose longest labels still fit across the figure."""
    for ncols in range(min(3, len(labels)), 1, -1):
        # matplotlib fills columns in order, the first len % ncols of them one entry longer
        base, extra = divmod(len(labels), ncols)
        columns, start = [], 0
        for index in range(ncols):
            size = base + (1 if index < extra else 0)
            columns.append(labels[start : start + size])
            start += size
        if sum(max(len(x) for x in col) + 6 for col in columns if col) <= LEGEND_CHARS:
            return ncols
    return 1


def _bands(ax: Any) -> dict[str, tuple[list[float], list[float]]]:
    """gid -> (lows, highs) read back from band polygons and error-bar whiskers."""
    out = {}
    for patch in ax.patches:
        gid = patch.get_gid()
        if not gid:
            continue
        xy = patch.get_xy()
        half = len(xy) // 2  # ax.fill closes the polygon with one extra vertex
        highs = [float(v) for v in xy[:half, 1]]
        lows = [float(v) for v in xy[half : 2 * half, 1]][::-1]
        out[gid] = (lows, highs)
    for collection in ax.collections:
        gid = collection.get_gid()
        if gid:
            segments = collection.get_segments()  # one (x, low) -> (x, high) segment per bar
            out[gid] = ([float(s[0][1]) for s in segments], [float(s[1][1]) for s in segments])
    return out


def save_figure(
    fig: Any, ax: Any, out_dir: Path, stem: str, meta: dict[str, Any], ci_label: str = CI_LABEL
) -> PlotFiles:
    """Write PNG + SVG + PDF + the sidecar built from the artists that carry a data ``gid``."""
    from matplotlib import rc_context
    from matplotlib.colors import to_hex
    from matplotlib.patches import Patch

    out_dir.mkdir(parents=True, exist_ok=True)
    bands = _bands(ax)
    series = []
    for line in ax.get_lines():
        gid = line.get_gid()
        if not gid:
            continue
        entry = {
            **json.loads(gid),
            "label": line.get_label(),
            "x": [float(v) for v in line.get_xdata()],
            "y": [float(v) for v in line.get_ydata()],
            "style": {
                "linestyle": str(line.get_linestyle()),
                "marker": str(line.get_marker()),
                "color": to_hex(line.get_color()),
                "hollow": str(line.get_markerfacecolor()) == "none",
            },
        }
        if gid in bands:
            entry["ci_low"], entry["ci_high"] = bands[gid]
        series.append(entry)
    handles, labels = ax.get_legend_handles_labels()
    if ax.patches and any(p.get_gid() for p in ax.patches):
        handles.append(Patch(color="grey", alpha=0.3, linewidth=0))
        labels.append(ci_label)
    files = PlotFiles(
        out_dir / f"{stem}.png",
        out_dir / f"{stem}.svg",
        out_dir / f"{stem}.json",
        out_dir / f"{stem}.pdf",
    )
    with rc_context(FONT):
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncols=legend_columns(labels))
        fig.savefig(files.png, format="png", dpi=DPI)
        fig.savefig(files.svg, format="svg", metadata={"Date": None})
        fig.savefig(files.pdf, format="pdf", metadata={"CreationDate": None, "ModDate": None})
    files.json.write_text(
        json.dumps({**meta, "series": series}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return files
