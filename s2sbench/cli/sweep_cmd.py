"""``s2sbench sweep``: score every checkpoint of a training run, then plot the curves."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from s2sbench.cli.run_args import add_run_config_args, execution_from_args, run_config_from_args
from s2sbench.core.errors import S2SBenchError


def add_sweep_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="evaluate every checkpoint of a training run (resumable) and plot it",
        description="Find checkpoints, read each one's training step from its name "
        "(ckpt_<n>_<step>_... or --step-regex), evaluate each once with "
        "pretrained=<checkpoint> added to --model-args, and write per checkpoint the same "
        "files as 'run', plus per task and condition the reference "
        "summaries/<task>_<condition>/results_summary.txt (step,acc%%,mean_right_loss,"
        "mean_wrong_loss per checkpoint). Rerunning skips finished checkpoints "
        "and finished items.",
    )
    p.add_argument(
        "--checkpoints",
        required=True,
        action="append",
        help="glob of checkpoint paths, quoted, e.g. 'RUN_DIR/ckpt_*' (repeatable)",
    )
    p.add_argument(
        "--step-regex",
        default=None,
        help="regex with a group 'step' read from each checkpoint's name",
    )
    add_run_config_args(p, model_default="hf", model_help="adapter name or module:object")
    p.add_argument(
        "--pretrained-key",
        default="pretrained",
        help="model arg that receives each checkpoint's path (a sweep sets it, per checkpoint)",
    )
    p.add_argument("--output-path", "--output_path", required=True, help="sweep directory")
    p.add_argument(
        "--log-samples",
        "--log_samples",
        action="store_true",
        help="accepted as in 'run' and lm-evaluation-harness: a sweep always writes each "
        "checkpoint's samples_<task>_<condition>.jsonl (reports and compare read them)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip OUT/plots/")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.tasks == "list":  # as in 'run': the task table
        from s2sbench.cli.main import cmd_tasks

        return cmd_tasks(args)
    from s2sbench.sweeps.run_sweep import sweep

    if not args.output_path:
        raise S2SBenchError("sweep needs --output-path")
    execution = execution_from_args(args)
    outcome = sweep(
        args.checkpoints,
        args.output_path,
        config=run_config_from_args(args, output_path=None, log_samples=True),
        step_regex=args.step_regex,
        pretrained_key=args.pretrained_key,
        progress=execution.progress,
        log=lambda msg: print(msg, file=sys.stderr),
        executor=execution.executor,
        executor_args=execution.executor_args_dict(),
    )
    root = Path(args.output_path)
    print(
        f"{len(outcome.evaluated)} checkpoints evaluated, {len(outcome.skipped)} already "
        f"finished; summaries: {root / 'summaries'}/<task>_<condition>/results_summary.txt "
        f"and {root / 'summary.txt'}"
    )
    if not args.no_plots:
        from s2sbench.reports.plots import plot_sweeps

        files = plot_sweeps({root.resolve().name: outcome.sweep}, root / "plots")
        print(f"{len(files)} plots (PNG + SVG + PDF + JSON) in {root / 'plots'}")
    return 0
