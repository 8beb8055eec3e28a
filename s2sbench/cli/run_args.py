"""The options of a run, defined once for ``run`` and ``sweep``, and the config built from them.

``add_run_config_args`` adds every option that becomes a ``RunConfig`` field
(plus ``--no-progress`` and the executor options); ``run_config_from_args``
builds the config from the parsed arguments by field name, so a new option is
one ``RunConfig`` field and one ``add_argument`` here, and both commands have
it. The argument types call the same checks ``RunConfig`` runs, so a bad value
gives the same message from the command line as from ``evaluate(...)``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from s2sbench.cli.ray_args import add_executor_args, executor_kwargs
from s2sbench.core.errors import ConfigError
from s2sbench.core.run_config import ExecutionOptions, RunConfig
from s2sbench.core.run_options import (
    LONG_AUDIO_POLICIES,
    LONG_CONTEXT_POLICIES,
    check_batch_size,
    check_long_audio,
    check_long_context,
    parse_limit,
    parse_seed,
)

T = TypeVar("T")

RUN_CONFIG_GROUP = "what is evaluated and how it is scored"


def argparse_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a library check: its ConfigError becomes argparse's one line."""

    def convert(value: str) -> T:
        try:
            return parse(value)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__
    return convert


limit_type = argparse_type(parse_limit)
seed_type = argparse_type(parse_seed)
batch_size_type = argparse_type(check_batch_size)
long_audio_type = argparse_type(check_long_audio)
long_context_type = argparse_type(check_long_context)


def add_run_config_args(
    parser: argparse.ArgumentParser, *, model_default: str | None, model_help: str
) -> None:
    """Every ``RunConfig`` option ``run`` and ``sweep`` share, then the execution options."""
    p = parser.add_argument_group(RUN_CONFIG_GROUP)
    p.add_argument("--model", default=model_default, help=model_help)
    p.add_argument(
        "--model-args",
        "--model_args",
        default="",
        help="key=value,... e.g. pretrained=PATH,dtype=float32",
    )
    p.add_argument(
        "--tasks",
        default="sample",
        help="comma-separated task names or task .yaml paths; 'sample' = built-in suite; "
        "'list' lists the tasks",
    )
    p.add_argument(
        "--conditions",
        default="t2t,s2t",
        help="comma-separated: t2t,s2t,t2s,s2s, none (no context: the continuation alone)",
    )
    p.add_argument(
        "--data-dir", "--data_dir", default=None, help="root of the S2SBench data (S2S/...)"
    )
    p.add_argument(
        "--batch-size",
        "--batch_size",
        type=batch_size_type,
        default=None,
        help="an integer or 'auto'",
    )
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: best available)")
    p.add_argument(
        "--limit", type=limit_type, default=None, help="first N items per task (or a fraction < 1)"
    )
    p.add_argument("--template", default="reference", help="prompt template name")
    p.add_argument("--seed", type=seed_type, default=1234, help="seed of the bootstrap (>= 0)")
    p.add_argument(
        "--long-audio",
        type=long_audio_type,
        choices=LONG_AUDIO_POLICIES,
        default="error",
        help="what to do with audio longer than the model's window",
    )
    p.add_argument(
        "--long-context",
        type=long_context_type,
        choices=LONG_CONTEXT_POLICIES,
        default="error",
        help="what to do with a text context longer than the model's window (truncate: cut "
        "it from the left, counted in results.json)",
    )
    p.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow model repositories to run their own code",
    )
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="allow loading pickle-only (non-safetensors) weights",
    )
    p.add_argument(
        "--allow-weight-mismatch",
        action="store_true",
        help="score a checkpoint whose weights do not match its config (missing weights random)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_executor_args(parser)


def run_config_from_args(args: argparse.Namespace, **changes: Any) -> RunConfig:
    """The ``RunConfig`` of the parsed options: each field from the argument of its name."""
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(RunConfig)
        if hasattr(args, f.name)
    }
    return RunConfig(**{**given, **changes})


def quiet_progress() -> None:
    """``--no-progress`` also silences Hugging Face loading bars, so stderr holds only errors."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    if "transformers" in sys.modules:
        sys.modules["transformers"].utils.logging.disable_progress_bar()


def execution_from_args(args: argparse.Namespace) -> ExecutionOptions:
    """Progress and executor options; ``--no-progress`` quiets the libraries' bars too."""
    if args.no_progress:
        quiet_progress()
    executor, executor_args = executor_kwargs(args)
    return ExecutionOptions(not args.no_progress, executor, executor_args)
