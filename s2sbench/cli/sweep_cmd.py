"""``s2sbench sweep``: score every checkpoint of a training run, then plot the curves."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from s2sbench.cli.ray_args import add_executor_args, executor_kwargs
from s2sbench.core.errors import S2SBenchError


def add_sweep_parser(sub: argparse._SubParsersAction) -> None:
    from s2sbench.cli.main import _batch_size, _limit, _seed

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
    p.add_argument("--model", default="hf", help="adapter name or module:object")
    p.add_argument(
        "--model-args",
        "--model_args",
        default="",
        help="key=value,... for all checkpoints (pretrained is set per checkpoint)",
    )
    p.add_argument(
        "--pretrained-key",
        default="pretrained",
        help="model arg that receives each checkpoint's path",
    )
    p.add_argument("--tasks", default="sample", help="comma-separated task names; 'sample'")
    p.add_argument(
        "--conditions",
        default="t2t,s2t",
        help="comma-separated: t2t,s2t,t2s,s2s, none (no context: the continuation alone)",
    )
    p.add_argument("--data-dir", "--data_dir", default=None, help="root of the S2SBench data")
    p.add_argument("--output-path", "--output_path", required=True, help="sweep directory")
    p.add_argument("--batch-size", "--batch_size", type=_batch_size, default=None)
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ...")
    p.add_argument("--limit", type=_limit, default=None, help="first N items per task")
    p.add_argument("--template", default="reference", help="prompt template name")
    p.add_argument("--seed", type=_seed, default=1234, help="seed of the bootstrap (>= 0)")
    p.add_argument("--long-audio", choices=["error", "truncate", "chunk"], default="error")
    p.add_argument("--long-context", choices=["error", "truncate"], default="error")
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument("--allow-pickle", action="store_true")
    p.add_argument("--allow-weight-mismatch", action="store_true")
    p.add_argument(
        "--log-samples",
        "--log_samples",
        action="store_true",
        help="accepted as in 'run' and lm-evaluation-harness: a sweep always writes each "
        "checkpoint's samples_<task>_<condition>.jsonl (reports and compare read them)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip OUT/plots/")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_executor_args(p)
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from s2sbench.cli.main import _quiet_progress
    from s2sbench.sweeps.run_sweep import sweep

    if not args.output_path:
        raise S2SBenchError("sweep needs --output-path")
    if args.no_progress:
        _quiet_progress()
    executor, executor_args = executor_kwargs(args)
    outcome = sweep(
        args.checkpoints,
        args.output_path,
        model=args.model,
        model_args=args.model_args,
        tasks=args.tasks,
        conditions=args.conditions,
        step_regex=args.step_regex,
        pretrained_key=args.pretrained_key,
        data_dir=args.data_dir,
        limit=args.limit,
        template=args.template,
        seed=args.seed,
        progress=not args.no_progress,
        log=lambda msg: print(msg, file=sys.stderr),
        batch_size=args.batch_size,
        device=args.device,
        long_audio=args.long_audio,
        long_context=args.long_context,
        trust_remote_code=args.trust_remote_code,
        allow_pickle=args.allow_pickle,
        allow_weight_mismatch=args.allow_weight_mismatch,
        executor=executor,
        executor_args=executor_args,
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
