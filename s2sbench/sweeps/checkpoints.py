"""Finding the checkpoints of a training run and reading their training step.

The reference layout names checkpoint directories ``ckpt_<n>_<step>_...``
(``n`` a running index, ``step`` the optimiser step). Plots are over steps,
so every checkpoint must yield one: a name that does not match is an error
that names it, not a silently dropped point. Other layouts pass
``step_regex`` with a group ``step`` (or one unnamed group).
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from s2sbench.core.errors import ConfigError

REFERENCE_STEP_REGEX = r"^ckpt_(?P<index>\d+)_(?P<step>\d+)(?:_|$)"


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint: where it is, what it is called, and its training step."""

    path: Path
    name: str
    step: int

    def signature(self) -> str:
        """A cheap content signature (names, sizes, inodes, mtimes, ctimes) so an overwritten
        checkpoint is redone.

        Hashing the weights would cost a full read of every checkpoint on each rerun; the
        stat fields change whenever a trainer rewrites one. ctime is among them because no
        program can set it back: a tensor rewritten in place with its mtime restored
        (``os.utime``) still changes it. The evaluation itself keys scores by the whole
        files' sha256 (``models.checkpoint_files``), so a redone checkpoint is rescored.
        """
        entries: list[str] = []
        paths = [self.path] if self.path.is_file() else sorted(self.path.rglob("*"))
        for path in paths:
            if path.is_file():
                stat = path.stat()
                rel = path.name if path == self.path else path.relative_to(self.path).as_posix()
                fields = (stat.st_size, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns)
                entries.append(f"{rel}:" + ":".join(map(str, fields)))
        return hashlib.sha256("\n".join(entries).encode("utf-8")).hexdigest()[:16]


def _compile(step_regex: str | None) -> re.Pattern[str]:
    try:
        pattern = re.compile(step_regex or REFERENCE_STEP_REGEX)
    except re.error as exc:
        raise ConfigError(f"--step-regex '{step_regex}' is not a valid regex ({exc})") from None
    if "step" not in pattern.groupindex and pattern.groups != 1:
        raise ConfigError(
            f"--step-regex '{step_regex}' must have a group named 'step' or exactly one group",
            hint=r"e.g. --step-regex 'step(?P<step>\d+)'",
        )
    return pattern


def parse_step(name: str, step_regex: str | None = None) -> int:
    """The training step in a checkpoint's name (reference: ``ckpt_<n>_<step>_...``)."""
    pattern = _compile(step_regex)
    match = pattern.search(name)
    if match is None:
        raise ConfigError(
            f"cannot read a training step from checkpoint name '{name}'",
            hint="name checkpoints ckpt_<n>_<step>_... or pass --step-regex with a 'step' group",
        )
    text = match.group("step") if "step" in pattern.groupindex else match.group(1)
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ConfigError(
            f"--step-regex matched '{text}' in '{name}', which is not an integer step"
        ) from None


def find_checkpoints(
    patterns: str | Sequence[str], step_regex: str | None = None
) -> list[Checkpoint]:
    """Every path matching the glob(s), with its step, sorted by step.

    Two checkpoints with the same step would make two points at one x in
    every plot, so that is an error rather than a guess.
    """
    if isinstance(patterns, str):
        patterns = [patterns]
    paths: set[Path] = set()
    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        matches = glob.glob(expanded)
        if not matches and Path(expanded).exists():
            matches = [expanded]
        paths.update(Path(m).resolve() for m in matches if not Path(m).name.startswith("."))
    if not paths:
        raise ConfigError(
            f"no checkpoints match {', '.join(repr(p) for p in patterns)}",
            hint="quote the glob so the shell does not expand it, e.g. 'RUN_DIR/ckpt_*'",
        )
    checkpoints = [Checkpoint(p, p.name, parse_step(p.name, step_regex)) for p in paths]
    checkpoints.sort(key=lambda c: (c.step, c.name))
    for before, after in zip(checkpoints, checkpoints[1:]):
        if before.step == after.step:
            raise ConfigError(
                f"checkpoints '{before.name}' and '{after.name}' both have step {before.step}",
                hint="narrow the --checkpoints glob or fix --step-regex",
            )
    return checkpoints
