"""``s2sbench report`` and ``s2sbench compare``: reports and paired comparisons of results."""

from __future__ import annotations

import argparse
from pathlib import Path

from s2sbench.cli.run_args import seed_type
from s2sbench.core.errors import ConfigError


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--examples must be a whole number, got '{value}'"
        ) from None
    if number < 0:
        raise argparse.ArgumentTypeError("--examples must be 0 or more")
    return number


def _labels(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",")] if text else None


def add_report_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="one Markdown or HTML report of result or sweep directories",
        description="Configuration, results with accuracy CIs, degradation table with CIs and "
        "McNemar p, per-subject table, a per-checkpoint table for sweeps, plots, and how many "
        "items T2T and S2T disagree on, for each RESULT_DIR (a 'run' or 'sweep' output); "
        "with several, each later directory minus the first (the baseline). --format html "
        "writes one self-contained file; --format md also writes its plots to "
        "<report>_files/.",
    )
    p.add_argument("result_dirs", nargs="+", metavar="RESULT_DIR")
    p.add_argument(
        "--format",
        choices=["md", "html"],
        default="md",
        help="md: Markdown plus a <report>_files/ folder of plots; html: one file, plots inlined",
    )
    p.add_argument(
        "--output", default=None, help="report file (default: FIRST_RESULT_DIR/report.<format>)"
    )
    p.add_argument("--labels", default=None, help="comma-separated names of the directories")
    p.add_argument(
        "--examples",
        type=_count,
        default=0,
        metavar="N",
        help="quote N items per task where T2T and S2T disagree (default 0: counts only); "
        "they are raw model input and ASR output, unfiltered",
    )
    p.add_argument("--seed", type=seed_type, default=1234, help="seed of the bootstrap (>= 0)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from s2sbench.reports.report import write_report

    output = args.output or str(Path(args.result_dirs[0]) / f"report.{args.format}")
    path = write_report(
        args.result_dirs,
        output,
        args.format,
        labels=_labels(args.labels),
        examples_per_task=args.examples,
        seed=args.seed,
    )
    print(f"report written to {path}")
    return 0


def add_compare_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="paired comparison of runs (or sweeps) on the same tasks",
        description="The first DIR is the baseline. Per task and condition: the accuracy of "
        "each later run minus the baseline's on the same items (positive: the run is more "
        "accurate), with a paired bootstrap CI and exact McNemar p. Sweep directories stand "
        "for their last checkpoint, and their curves are overlaid in OUTPUT/plots.",
    )
    p.add_argument("result_dirs", nargs="+", metavar="DIR", help="BASELINE_DIR RUN_DIR [...]")
    p.add_argument("--labels", default=None, help="comma-separated names (default: dir names)")
    p.add_argument(
        "--output-path",
        "--output_path",
        default="s2sbench_compare",
        help="where compare.json and the overlaid plots go",
    )
    p.add_argument("--seed", type=seed_type, default=1234, help="seed of the bootstrap (>= 0)")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from rich.console import Console

    from s2sbench.core.strict_json import write_json
    from s2sbench.reports.compare import compare_runs, comparison_table, default_labels
    from s2sbench.reports.sweep_series import is_sweep_dir, load_sweep

    if len(args.result_dirs) < 2:
        raise ConfigError("compare needs at least two directories")
    labels = _labels(args.labels) or default_labels(args.result_dirs)
    report = compare_runs(args.result_dirs, labels, seed=args.seed)
    out = Path(args.output_path)
    write_json(out / "compare.json", report)
    Console(width=max(Console().width, 150)).print(comparison_table(report))
    sweeps = {label: load_sweep(d) for label, d in zip(labels, args.result_dirs) if is_sweep_dir(d)}
    if len(sweeps) > 1:
        from s2sbench.reports.plots import plot_sweeps

        files = plot_sweeps(sweeps, out / "plots")
        print(f"{len(files)} overlaid plots in {out / 'plots'}")
    print(f"comparison written to {out / 'compare.json'}")
    return 0
