"""``s2sbench report``: one self-contained Markdown or HTML report of result directories.

For each directory (a run, or a sweep standing for its last checkpoint plus
its curves): the configuration, the results per task and condition, the
degradation table with its CIs and McNemar p, the per-subject table, the
plots, and items where reading and hearing disagree. With several
directories, a paired comparison of each against the first follows (and the
sweeps' curves overlaid). Plots are written to ``<report stem>_files/``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s2sbench import __version__
from s2sbench.errors import ConfigError
from s2sbench.reports.compare import COMPARISON_HEADER, compare_runs, comparison_rows
from s2sbench.reports.compare import default_labels as _labels
from s2sbench.reports.examples import disagreements
from s2sbench.reports.plots import plot_run_accuracy, plot_sweeps
from s2sbench.reports.report_doc import (
    Block,
    Heading,
    Image,
    Para,
    Pre,
    TableBlock,
    render_html,
    render_markdown,
)
from s2sbench.reports.run_records import RunData, load_run

SECTION_TITLES = (
    "Configuration",
    "Results",
    "Intelligence degradation",
    "Per subject",
    "Plots",
    "Where reading and hearing disagree",
)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}"


def _config_blocks(run: RunData) -> list[Block]:
    cfg = run.config
    template = cfg.get("template", {})
    rows = [
        ["model", str(cfg.get("model"))],
        ["model_args", json.dumps(cfg.get("model_args", {}), ensure_ascii=False)],
        ["model id", str(cfg.get("model_id"))],
        ["conditions", ", ".join(cfg.get("conditions", []))],
        ["template", str(template.get("name", template))],
        ["limit", str(cfg.get("limit"))],
        ["bootstrap seed", str(cfg.get("seed"))],
        ["versions", ", ".join(f"{k} {v}" for k, v in cfg.get("versions", {}).items())],
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
            t.get("kind", ""),
            t.get("lang", ""),
            str(t.get("n_items", "")),
            str(t.get("version", "")),
            str(t.get("source", "")),
        ]
        for name, t in cfg.get("tasks", {}).items()
    ]
    return [
        Heading(3, "Configuration"),
        TableBlock(["setting", "value"], rows),
        TableBlock(["task", "kind", "lang", "items", "version", "source"], tasks),
    ]


def _results_blocks(run: RunData) -> list[Block]:
    rows = [
        [
            task,
            cond,
            str(m["n"]),
            _pct(m["acc"]),
            f"{m['mean_right_loss']:.4f}",
            f"{m['mean_wrong_loss']:.4f}",
            _pct(m.get("acc_argmax")),
            _pct(m.get("acc_sum")),
        ]
        for task, by_cond in run.results["results"].items()
        for cond, m in by_cond.items()
    ]
    blocks: list[Block] = [
        Heading(3, "Results"),
        TableBlock(
            [
                "task",
                "condition",
                "n",
                "acc %",
                "mean right loss",
                "mean wrong loss",
                "argmax acc %",
                "summed-loss acc %",
            ],
            rows,
        ),
    ]
    skipped = run.results.get("skipped", [])
    if skipped:
        blocks.append(
            Para(
                "Skipped: "
                + "; ".join(f"{s['task']}/{s['condition']} ({s['reason']})" for s in skipped)
            )
        )
    return blocks


def _degradation_blocks(run: RunData) -> list[Block]:
    rows, subject_rows = [], []
    for task, pairs in run.results.get("degradation", {}).items():
        for pair, d in pairs.items():
            if not d.get("n_items"):
                continue
            first, second = pair.split("->")
            rows.append(
                [
                    task,
                    pair,
                    str(d["n_items"]),
                    _pct(d[f"acc_{first}"]),
                    _pct(d[f"acc_{second}"]),
                    f"{100 * d['gap']:+.1f}",
                    f"[{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]",
                    f"{d['mcnemar']['p_value']:.3g} ({d['mcnemar'].get('unit', '')})",
                ]
            )
            for subject, s in d.get("by_subject", {}).items():
                subject_rows.append(
                    [
                        task,
                        pair,
                        subject,
                        str(s["n_items"]),
                        _pct(s[f"acc_{first}"]),
                        _pct(s[f"acc_{second}"]),
                        f"{100 * s['gap']:+.1f}",
                    ]
                )
    blocks: list[Block] = [Heading(3, "Intelligence degradation")]
    if rows:
        blocks += [
            Para(
                "Gap = read minus heard accuracy in points; 95% paired bootstrap CI "
                "over items; exact McNemar test on the reference pairs."
            ),
            TableBlock(
                [
                    "task",
                    "pair",
                    "n",
                    "acc read %",
                    "acc heard %",
                    "gap pts",
                    "95% CI",
                    "McNemar p (unit)",
                ],
                rows,
            ),
        ]
    else:
        blocks.append(Para("No task was scored both read and heard."))
    blocks.append(Heading(3, "Per subject"))
    blocks.append(
        TableBlock(
            ["task", "pair", "subject", "n", "acc read %", "acc heard %", "gap pts"], subject_rows
        )
        if subject_rows
        else Para("No task carries subjects.")
    )
    return blocks


def _example_blocks(run: RunData, per_task: int) -> list[Block]:
    blocks: list[Block] = [Heading(3, "Where reading and hearing disagree")]
    for task in run.results["results"]:
        found = disagreements(run, task, limit=per_task)
        if found is None:
            blocks.append(Para(f"{task}: no T2T and S2T sample logs (run with --log-samples)."))
            continue
        count, examples = found
        blocks.append(Para(f"{task}: {count} items disagree; showing {len(examples)}."))
        for ex in examples:
            verdict = (
                "read right, heard wrong" if ex.score_a > ex.score_b else "heard right, read wrong"
            )
            heard = f"\nheard (ASR transcript): {ex.transcript}" if ex.transcript else ""
            blocks.append(Pre(f"item {ex.item_id} ({verdict})\ncontext: {ex.context}{heard}"))
            blocks.append(
                TableBlock(
                    ["", "continuation", "T2T loss", "S2T loss"],
                    [
                        ["right" if i == ex.gold else "wrong", text, f"{la:.4f}", f"{lb:.4f}"]
                        for i, (text, la, lb) in enumerate(
                            zip(ex.continuations, ex.losses_a, ex.losses_b)
                        )
                    ],
                )
            )
    return blocks


def build_blocks(
    paths: Sequence[str | Path],
    files_dir: Path,
    *,
    labels: Sequence[str] | None = None,
    examples_per_task: int = 3,
    seed: int = 1234,
) -> list[Block]:
    """The whole report as blocks; plots are written under ``files_dir``."""
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
        blocks += _degradation_blocks(run)
        blocks.append(Heading(3, "Plots"))
        plot_dir = files_dir / f"{index}_{label.replace('/', '_')}"
        if run.sweep is not None:
            files = plot_sweeps({label: run.sweep}, plot_dir)
        else:
            files = [plot_run_accuracy(run.results, plot_dir)]
        blocks += [Image(f.png, f"{label}: {f.png.stem}") for f in files]
        blocks += _example_blocks(run, examples_per_task)
    if len(runs) > 1:
        report = compare_runs(paths, labels, seed=seed)
        blocks += [
            Heading(2, "Comparison"),
            Para(
                f"Each run against {labels[0]} on the same items (sweeps: their last "
                "checkpoint); 95% paired bootstrap CI, exact McNemar p."
            ),
            TableBlock(COMPARISON_HEADER, comparison_rows(report)),
        ]
        sweeps = {label: run.sweep for label, run in zip(labels, runs) if run.sweep}
        if len(sweeps) > 1:
            files = plot_sweeps(sweeps, files_dir / "comparison")
            blocks += [Image(f.png, f"comparison: {f.png.stem}") for f in files]
    return blocks


def write_report(
    paths: Sequence[str | Path],
    output: str | Path,
    fmt: str = "md",
    *,
    labels: Sequence[str] | None = None,
    examples_per_task: int = 3,
    seed: int = 1234,
) -> Path:
    """Write the report to ``output`` (``.md`` or ``.html``) and return its path."""
    if fmt not in ("md", "html"):
        raise ConfigError(f"unknown report format '{fmt}'", hint="use --format md or html")
    output = Path(output)
    files_dir = output.parent / f"{output.stem}_files"
    blocks = build_blocks(
        paths, files_dir, labels=labels, examples_per_task=examples_per_task, seed=seed
    )
    text = (
        render_markdown(blocks, output) if fmt == "md" else render_html(blocks, "s2sbench report")
    )
    from s2sbench.reports.io import write_atomic

    write_atomic(output, text)
    return output
