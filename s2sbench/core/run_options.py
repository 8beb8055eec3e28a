"""Checks of run options shared by the CLI and the Python API: one rule, one message.

The CLI's argument types call these, so ``--limit inf`` and
``evaluate(limit=float("inf"))`` fail the same way, before any data or model
is loaded. The safety gates accept only real booleans: a string such as
``"no"`` is truthy in Python, and a gate that a string can open is no gate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from s2sbench.core.errors import ConfigError

if TYPE_CHECKING:
    from s2sbench.core.item import Task

GATE_FLAGS = {
    "trust_remote_code": "--trust-remote-code",
    "allow_pickle": "--allow-pickle",
    "allow_weight_mismatch": "--allow-weight-mismatch",
}

LongAudioPolicy = Literal["error", "truncate", "chunk"]
LONG_AUDIO_POLICIES = ("error", "truncate", "chunk")
LONG_CONTEXT_POLICIES = ("error", "truncate")


def check_limit(limit: Any) -> int | float | None:
    """None, a whole number of items (>= 1), or a fraction of each task in (0, 1)."""
    if limit is None:
        return None
    good = isinstance(limit, int | float) and not isinstance(limit, bool)
    if not good or not math.isfinite(limit) or limit <= 0:
        raise ConfigError(
            f"--limit must be a finite number above 0, got '{limit}'",
            hint="give a number of items per task (e.g. 10) or a fraction below 1 (e.g. 0.5)",
        )
    return float(limit) if limit < 1 else int(limit)


def parse_limit(text: str) -> int | float:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(
            f"--limit must be a finite number above 0, got '{text}'",
            hint="give a number of items per task (e.g. 10) or a fraction below 1 (e.g. 0.5)",
        )
    limit = check_limit(number)
    assert limit is not None
    return limit


def check_seed(seed: Any) -> int:
    """The bootstrap's seed: numpy takes only non-negative integers."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(
            f"--seed must be a non-negative integer, got '{seed}'", hint="e.g. --seed 1234"
        )
    return seed


def parse_seed(text: str) -> int:
    try:
        return check_seed(int(text))
    except ValueError:
        raise ConfigError(
            f"--seed must be a non-negative integer, got '{text}'", hint="e.g. --seed 1234"
        ) from None


def check_batch_size(value: Any) -> int | str | None:
    """None (the adapter's default), a whole number >= 1, ``auto`` or ``auto:MAX``."""
    if value is None or value == "auto":
        return value
    if isinstance(value, str) and value.startswith("auto:"):
        if not value[5:].isdigit() or int(value[5:]) < 1:
            raise ConfigError(f"--batch-size auto:MAX needs a positive integer MAX, got '{value}'")
        return value
    try:
        size = int(value) if isinstance(value, str) or type(value) is int else None
    except ValueError:
        size = None
    if size is None:
        raise ConfigError(f"--batch-size must be a positive integer or 'auto', got '{value}'")
    if size < 1:
        raise ConfigError("--batch-size must be at least 1")
    return size


def check_long_audio(policy: Any) -> LongAudioPolicy:
    """What to do with audio longer than a model's window: error, truncate or chunk."""
    if policy not in LONG_AUDIO_POLICIES:
        raise ConfigError(
            f"unknown long-audio policy '{policy}'", hint="use error, truncate or chunk"
        )
    return policy  # type: ignore[no-any-return]


def check_long_context(policy: Any) -> str:
    """``error`` (refuse a context longer than the window) or ``truncate`` (cut from the left)."""
    if policy not in LONG_CONTEXT_POLICIES:
        raise ConfigError(
            f"unknown long_context policy '{policy}'",
            hint=f"use one of: {', '.join(LONG_CONTEXT_POLICIES)}",
        )
    return str(policy)


def check_gate(name: str, value: Any) -> bool:
    """A safety gate: True or False exactly, as a CLI flag or API keyword sets it."""
    if not isinstance(value, bool):
        raise ConfigError(
            f"{name} must be True or False, got {value!r}",
            hint=f"pass {name}=True in Python or the {GATE_FLAGS[name]} flag on the command line",
        )
    return value


def check_task_names(tasks: Sequence[str] | str) -> None:
    """``--tasks ,`` or an empty list names nothing to evaluate."""
    names = tasks.split(",") if isinstance(tasks, str) else list(tasks)
    if not [name for name in names if str(name).strip()]:
        raise ConfigError(
            f"--tasks names no task ('{tasks if isinstance(tasks, str) else ','.join(tasks)}')",
            hint="give comma-separated task names or .yaml paths; 's2sbench tasks' lists them",
        )


def limited_task(task: Task, limit: int | float | None) -> Task:
    """``task`` cut to ``limit``; zero items is an error: it has no accuracy to report."""
    kept = task.limited(limit)
    if len(kept):
        return kept
    if limit is None:
        raise ConfigError(f"task '{task.name}' has no items", hint="check the task's data file")
    total = len(task)
    raise ConfigError(
        f"task '{task.name}' keeps no items with --limit {limit} (it has {total})",
        hint=f"raise --limit: a whole number of items, or a fraction of at least 1/{total}",
    )


def check_something_to_score(n_cells: int, skipped: list[dict[str, str]]) -> None:
    """Every task x condition skipped is an empty evaluation too: refuse it, say why."""
    if n_cells:
        return
    why = "; ".join(f"{s['task']}/{s['condition']}: {s['reason']}" for s in skipped[:3])
    raise ConfigError(
        f"nothing to evaluate: the model can score none of the requested tasks x conditions "
        f"({why}{'; ...' if len(skipped) > 3 else ''})",
        hint="choose tasks and --conditions this model supports",
    )
