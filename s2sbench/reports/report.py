"""``s2sbench report``: a Markdown or HTML report of result directories.

For each directory (a run, or a sweep standing for its last checkpoint plus
its curves and a per-checkpoint table): the configuration, the results per
task and condition with accuracy CIs, the degradation table with its CIs and
McNemar p, the per-subject table, the plots, and how many items reading and
hearing disagree on (the items themselves only with ``examples_per_task``).
With several directories, each later run minus the first (the baseline)
follows, and the sweeps' curves overlaid.

HTML is one self-contained file: plots are drawn in a temporary folder and
inlined as SVG data URIs, nothing else is written. Markdown links its plots,
written to ``<report stem>_files/`` beside it (Markdown viewers refuse
``data:`` images).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from s2sbench.core.errors import ConfigError
from s2sbench.core.version import __version__
from s2sbench.reports.compare import compare_runs
from s2sbench.reports.compare import default_labels as _labels
from s2sbench.reports.examples import example_blocks
from s2sbench.reports.intervals import CI_METHOD, run_accuracy_cis
from s2sbench.reports.plots import PlotFiles, plot_run_accuracy, plot_sweeps
from s2sbench.reports.report_doc import (
    Block,
    Heading,
    Image,
    Para,
    TableBlock,
    render_html,
    render_markdown,
)
from s2sbench.reports.report_stats import (
    comparison_blocks,
    degradation_blocks,
    pct,
    per_checkpoint_blocks,
)
from s2sbench.reports.result_fields import as_float
from s2sbench.reports.run_records import RunData, load_run

SECTION_TITLES = (
    "Configuration",
    "Results",
    "Intelligence degradation",
    "Per subject",
    "Plots",
    "Where reading and hearing disagree",
)
SWEEP_SECTION_TITLES = ("Per checkpoint",)


def _config_blocks(run: RunData) -> list[Block]:
    cfg = run.config
    template = cfg.template
    rows = [
        ["model", str(cfg.model)],
        ["model_args", json.dumps(cfg.model_args, ensure_ascii=False)],
        ["model id", str(cfg.model_id)],
        ["conditions", ", ".join(cfg.conditions)],
        ["template", str(template.get("name", template))],
        ["limit", str(cfg.get("limit"))],
        ["bootstrap seed", str(cfg.seed)],
        ["versions", ", ".join(f"{k} {v}" for k, v in cfg.versions.items())],
        ["git", str(cfg.get("git_hash"))],
    ]
    if run.sweep is not None:
        steps = [str(c["step"]) for c in run.sweep.finished()]
        rows.insert(
            0,
            [
                "sweep",
                f"{len(steps)} finished checkpoints, steps {', '.join(steps)}"
                f"; tables below: {run.path.name}",
            ],
        )
    tasks = [
        [
            name,
            t.kind or "",
            t.lang or "",
            "" if t.n_items is None else str(t.n_items),
            "" if t.version is None else str(t.version),
            t.source or "",
        ]
        for name, t in cfg.tasks.items()
    ]
    return [
        Heading(3, "Configuration"),
        TableBlock(["setting", "value"], rows),
        TableBlock(["task", "kind", "lang", "items", "version", "source"], tasks),
    ]


def _results_blocks(run: RunData) -> list[Block]:
    cis = run_accuracy_cis(run)
    rows = [
        [
            task,
            cond,
            str(m.n),
            pct(m.acc),
            f"[{pct(cis[(task, cond)].low)}, {pct(cis[(task, cond)].high)}]"
            if (task, cond) in cis
            else "-",
            f"{as_float(m.mean_right_loss):.4f}",
            f"{as_float(m.mean_wrong_loss):.4f}",
            pct(m.acc_argmax),
            pct(m.acc_sum),
        ]
        for task, by_cond in run.results.results.items()
        for cond, m in by_cond.items()
    ]
    blocks: list[Block] = [
        Heading(3, "Results"),
        Para(f"Accuracy CI: {CI_METHOD}."),
        TableBlock(
            [
                "task",
                "condition",
                "n",
                "acc %",
                "95% CI",
                "mean right loss",
                "mean wrong loss",
                "argmax acc %",
                "summed-loss acc %",
            ],
            rows,
        ),
    ]
    skipped = run.results.skipped
    if skipped:
        blocks.append(
            Para("Skipped: " + "; ".join(f"{s.task}/{s.condition} ({s.reason})" for s in skipped))
        )
    return blocks


def _plots(run: RunData, label: str, plot_dir: Path) -> list[PlotFiles]:
    if run.sweep is not None:
        return plot_sweeps({label: run.sweep}, plot_dir)
    return [plot_run_accuracy(run.results, plot_dir, cis=run_accuracy_cis(run))]


def _images(files: list[PlotFiles], prefix: str) -> list[Block]:
    return [Image(f.png, f"{prefix}: {f.png.stem}", f.svg) for f in files]


def build_blocks(
    paths: Sequence[str | Path],
    files_dir: Path,
    *,
    labels: Sequence[str] | None = None,
    examples_per_task: int = 0,
    seed: int = 1234,
) -> list[Block]:
    """The whole report as blocks; plots are written under ``files_dir``.

    ``examples_per_task`` > 0 quotes that many disagreeing items per task
    (raw model input and ASR output); 0 shows only their number.
    """
    if not paths:
        raise ConfigError("report needs at least one result directory")
    labels = list(labels) if labels else _labels(paths)
    runs = [load_run(p) for p in paths]
    blocks: list[Block] = [
        Heading(1, "s2sbench report"),
        Para(
            f"s2sbench {__version__}. Reference protocol: pairwise perplexity; accuracy over "
            "right-vs-wrong pairs (chance 50%); losses are mean token cross-entropy in nats "
            "over the continuation."
        ),
    ]
    for index, (label, run) in enumerate(zip(labels, runs)):
        blocks.append(Heading(2, label))
        blocks += _config_blocks(run)
        blocks += _results_blocks(run)
        blocks += degradation_blocks(run)
        blocks += per_checkpoint_blocks(run)
        blocks.append(Heading(3, "Plots"))
        plot_dir = files_dir / f"{index}_{label.replace('/', '_')}"
        blocks += _images(_plots(run, label, plot_dir), label)
        blocks += example_blocks(run, examples_per_task)
    if len(runs) > 1:
        blocks += comparison_blocks(compare_runs(paths, labels, seed=seed))
        sweeps = {label: run.sweep for label, run in zip(labels, runs) if run.sweep}
        if len(sweeps) > 1:
            blocks += _images(plot_sweeps(sweeps, files_dir / "comparison"), "comparison")
    return blocks


def write_report(
    paths: Sequence[str | Path],
    output: str | Path,
    fmt: str = "md",
    *,
    labels: Sequence[str] | None = None,
    examples_per_task: int = 0,
    seed: int = 1234,
) -> Path:
    """Write the report to ``output`` and return its path.

    ``html``: that one file, plots inlined. ``md``: the file plus its plots in
    ``<output stem>_files/``.
    """
    if fmt not in ("md", "html"):
        raise ConfigError(f"unknown report format '{fmt}'", hint="use --format md or html")
    from s2sbench.core.atomic_write import write_atomic

    output = Path(output)
    if fmt == "html":
        with tempfile.TemporaryDirectory(prefix="s2sbench-report-") as tmp:
            blocks = build_blocks(
                paths, Path(tmp), labels=labels, examples_per_task=examples_per_task, seed=seed
            )
            text = render_html(blocks, "s2sbench report")  # reads the images before tmp goes
    else:
        blocks = build_blocks(
            paths,
            output.parent / f"{output.stem}_files",
            labels=labels,
            examples_per_task=examples_per_task,
            seed=seed,
        )
        text = render_markdown(blocks, output)
    write_atomic(output, text)
    return output
