"""Reading a sweep back: per (task, condition) the metrics of every finished checkpoint.

Plots, reports and comparisons read sweeps through here, from the files on
disk (``sweep.json`` and each checkpoint's ``results.json``), so they work on
a sweep made yesterday, on another machine, or one still running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2sbench.core.errors import ConfigError
from s2sbench.reports.result_fields import as_float
from s2sbench.reports.result_metrics import CellMetrics
from s2sbench.reports.results import RunResults
from s2sbench.reports.run_files import load_results_file

SWEEP_INDEX = "sweep.json"
SUMMARY_NAME = "results_summary.txt"  # the reference file: one per task and condition
SUMMARIES_DIR = "summaries"  # OUT/summaries/<task>_<condition>/results_summary.txt
COMBINED_SUMMARY_NAME = "summary.txt"  # every task and condition in one file, with headers
SUMMARY_COLUMNS = "step,acc%,mean_right_loss,mean_wrong_loss"


@dataclass(frozen=True)
class Point:
    """One checkpoint's numbers for one (task, condition)."""

    step: int
    acc: float
    mean_right_loss: float
    mean_wrong_loss: float
    n: int

    @classmethod
    def from_metrics(cls, step: int, metrics: CellMetrics) -> Point:
        return cls(
            step,
            as_float(metrics.acc),
            as_float(metrics.mean_right_loss),
            as_float(metrics.mean_wrong_loss),
            metrics.n,
        )


@dataclass(frozen=True)
class GapPoint:
    """One checkpoint's degradation for one (task, condition pair), as its results.json has it.

    ``gap`` is the first condition's accuracy minus the second's (read minus
    heard for ``t2t->s2t``), with its paired bootstrap CI and McNemar p.
    """

    step: int
    acc_first: float
    acc_second: float
    gap: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int


@dataclass
class Sweep:
    """A finished-or-partial sweep directory, read from disk."""

    root: Path
    index: dict[str, Any]
    results: dict[str, RunResults]  # checkpoint name -> results.json content

    @property
    def name(self) -> str:
        return self.root.name

    def finished(self) -> list[dict[str, Any]]:
        """Index entries of the checkpoints whose results exist, in step order."""
        return [c for c in self.index["checkpoints"] if c["name"] in self.results]

    def cells(self) -> list[tuple[str, str]]:
        """Every (task, condition) scored by at least one checkpoint, in first-seen order."""
        seen: dict[tuple[str, str], None] = {}
        for entry in self.finished():
            for cell in self.results[entry["name"]].cell_names():
                seen[cell] = None
        return list(seen)

    def series(self, task: str, condition: str) -> list[Point]:
        points = []
        for entry in self.finished():
            metrics = self.results[entry["name"]].metrics(task, condition)
            if metrics:
                points.append(Point.from_metrics(int(entry["step"]), metrics))
        return points

    def pairs(self, task: str) -> list[str]:
        """The condition pairs (``t2t->s2t``, ...) with a degradation entry for ``task``."""
        seen: dict[str, None] = {}
        for entry in self.finished():
            by_pair = self.results[entry["name"]].degradation.get(task, {})
            for pair, d in by_pair.items():
                if d.n_items:
                    seen[pair] = None
        return list(seen)

    def gap_series(self, task: str, pair: str) -> list[GapPoint]:
        """Per finished checkpoint: the degradation of ``pair`` (e.g. ``t2t->s2t``) on ``task``."""
        points = []
        for entry in self.finished():
            d = self.results[entry["name"]].pair(task, pair)
            if d and d.n_items:
                points.append(
                    GapPoint(
                        int(entry["step"]),
                        as_float(d.acc_first),
                        as_float(d.acc_second),
                        as_float(d.gap),
                        as_float(d.ci_low),
                        as_float(d.ci_high),
                        as_float(d.mcnemar.p_value if d.mcnemar else None),
                        d.n_items,
                    )
                )
        return points

    def last(self) -> tuple[dict[str, Any], RunResults] | None:
        """The index entry and results of the checkpoint with the highest step."""
        done = self.finished()
        return (done[-1], self.results[done[-1]["name"]]) if done else None


def is_sweep_dir(path: str | Path) -> bool:
    return (Path(path) / SWEEP_INDEX).is_file()


def load_sweep(root: str | Path) -> Sweep:
    """Read ``root/sweep.json`` and the results of every checkpoint that has them."""
    root = Path(root)
    index_path = root / SWEEP_INDEX
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{root} is not a sweep directory (no {SWEEP_INDEX})",
            hint="give the --output-path of an 's2sbench sweep'",
        ) from None
    except ValueError as exc:
        raise ConfigError(f"cannot parse {index_path} ({exc})") from None
    results: dict[str, RunResults] = {}
    for entry in index.get("checkpoints", []):
        path = root / entry["name"] / "results.json"
        if entry.get("status") == "done" and path.is_file():
            found = load_results_file(path)  # checked: version, shape, a regular file
            if found is not None:
                results[entry["name"]] = found
    return Sweep(root, index, results)


def summary_line(point: Point) -> str:
    """The reference per-checkpoint line, ``f"{step},{acc:.2%},{right:.4f},{wrong:.4f}"``.

    Exactly the reference eval code's format string (so ``54.17%``, four
    decimals of nats), applied to the same numbers: ``acc`` and the mean
    losses of ``results.json`` are computed with the reference's formulas
    (:func:`s2sbench.metrics.accuracy.reference_mean_losses`).
    """
    return f"{point.step},{point.acc:.2%},{point.mean_right_loss:.4f},{point.mean_wrong_loss:.4f}"


def reference_summary_text(points: list[Point]) -> str:
    """A reference ``results_summary.txt``: one line per checkpoint in step order, no header."""
    return "".join(summary_line(p) + "\n" for p in sorted(points, key=lambda p: p.step))


def summary_text(cells: dict[tuple[str, str], list[Point]]) -> str:
    """The combined, human-readable summary: per (task, condition) a ``# task=... condition=...``
    header and the column line, then the reference lines."""
    blocks = []
    for (task, cond), points in cells.items():
        lines = [f"# task={task} condition={cond}", f"# {SUMMARY_COLUMNS}"]
        lines += [summary_line(p) for p in points]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def parse_reference_line(line: str) -> tuple[int, float, float, float]:
    """One reference line, read as the reference plot reader reads it (``rstrip('%')``)."""
    step, acc, right, wrong = line.strip().split(",")
    return int(step), float(acc.rstrip("%")), float(right), float(wrong)


def parse_summary(text: str) -> dict[tuple[str, str], list[tuple[int, float, float, float]]]:
    """Read the combined summary back: ``{(task, condition): [(step, acc %, right, wrong)]}``."""
    out: dict[tuple[str, str], list[tuple[int, float, float, float]]] = {}
    current: tuple[str, str] | None = None
    for line in text.splitlines():
        if line.startswith("# task="):
            fields = dict(part.split("=", 1) for part in line[2:].split())
            current = (fields["task"], fields["condition"])
            out[current] = []
        elif line and not line.startswith("#") and current is not None:
            out[current].append(parse_reference_line(line))
    return out
