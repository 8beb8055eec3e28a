"""One run configuration: what is evaluated and how it is scored, checked once when built.

The pattern is inspect_ai's ``GenerateConfig``: typed fields, validated as the
object is made, changed only by ``replace`` or ``merge`` (which check again). The CLI
(``s2sbench.cli.run_args``) and the Python API (``evaluate(...)``, ``sweep(...)``)
both build a :class:`RunConfig`, so a bad value fails the same way from either,
before any data or model is loaded, and the evaluator, the executors and the
sweeps read their settings from it instead of passing a dozen keywords along.

What does not change a score (progress bars, where the work runs) is kept
apart in :class:`ExecutionOptions`, whose Ray options are checked when it is built
(:mod:`s2sbench.core.ray_options`), for the API and the CLI alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from s2sbench.core.conditions import Condition, parse_conditions
from s2sbench.core.errors import ConfigError
from s2sbench.core.ray_options import check_ray_options
from s2sbench.core.run_options import (
    check_batch_size,
    check_gate,
    check_limit,
    check_long_audio,
    check_long_context,
    check_seed,
    check_task_names,
)
from s2sbench.core.scoring import ScoringModel


class PromptTemplateLike(Protocol):
    """A prompt template object (``s2sbench.requests.prompts.PromptTemplate``)."""

    name: str

    def to_dict(self) -> dict[str, object]: ...


def _task_names(tasks: Sequence[str] | str) -> tuple[str, ...]:
    """``"a,b"`` and ``["a", "b"]`` are the same request: one tuple of names."""
    check_task_names(tasks)
    if isinstance(tasks, str):
        return tuple(name.strip() for name in tasks.split(",") if name.strip())
    return tuple(tasks)


def _model_args(args: str | Mapping[str, Any] | None) -> str | Mapping[str, Any] | None:
    """Text stays as written (the registry parses booleans from it); a mapping turns read-only.

    None, ``""`` and ``{}`` all mean "no arguments": one value, None, so equal configs compare
    equal whichever spelling built them.
    """
    if not args:
        return None
    if isinstance(args, str):
        return args
    return MappingProxyType(dict(args))


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides which scores a run computes and what its results record.

    ``model=None`` is the bundled default cascade, resolved when the run is
    planned (``s2sbench.models.default_model``). ``tasks`` and ``conditions`` may
    be given as comma-separated text or a list (as on the command line and in
    ``evaluate``), and are kept as tuples. Build it with keywords, change it with
    :meth:`replace`; assigning a field raises ``FrozenInstanceError``.
    """

    model: str | ScoringModel | None = None
    model_args: str | Mapping[str, Any] | None = None
    tasks: tuple[str, ...] = ("sample",)
    conditions: tuple[Condition, ...] = (Condition.T2T, Condition.S2T)
    data_dir: str | None = None
    limit: int | float | None = None
    template: str | PromptTemplateLike = "reference"
    seed: int = 1234
    long_audio: str = "error"
    long_context: str = "error"
    batch_size: int | str | None = None
    device: str | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False
    allow_weight_mismatch: bool = False
    output_path: Path | None = None
    log_samples: bool = False
    use_cache: str | None = None

    def __post_init__(self) -> None:
        """Check and normalise every field, in the order the pipeline used to check them."""
        if self.output_path and self.use_cache:  # both name a score store
            raise ConfigError(
                "--use-cache and --output-path both name a score store",
                hint="drop --use-cache: the output folder's store already resumes and caches",
            )
        normal = {
            "model_args": _model_args(self.model_args),
            "limit": check_limit(self.limit),
            "seed": check_seed(self.seed),
            "tasks": _task_names(self.tasks),
            "conditions": tuple(parse_conditions(_listed(self.conditions))),
            "data_dir": str(self.data_dir) if self.data_dir else None,
            "long_audio": check_long_audio(self.long_audio),
            "long_context": check_long_context(self.long_context),
            "batch_size": check_batch_size(self.batch_size),
            "trust_remote_code": check_gate("trust_remote_code", self.trust_remote_code),
            "allow_pickle": check_gate("allow_pickle", self.allow_pickle),
            "allow_weight_mismatch": check_gate(
                "allow_weight_mismatch", self.allow_weight_mismatch
            ),
            "output_path": Path(self.output_path) if self.output_path else None,
            "log_samples": bool(self.log_samples),
            "use_cache": str(self.use_cache) if self.use_cache else None,
        }
        for name, value in normal.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with ``changes``, checked like a new config."""
        return dataclasses.replace(self, **changes)

    def merge(self, other: RunConfig | Mapping[str, Any]) -> RunConfig:
        """This config with the values ``other`` sets, checked like a new config.

        inspect_ai's ``GenerateConfig.merge``: what ``other`` sets wins, what it leaves
        unset keeps this config's value. In a mapping a key is set unless its value is
        None; in a :class:`RunConfig` a field is set when it differs from the field's
        default (so merging ``RunConfig()`` changes nothing; ``replace`` sets a field
        back to its default). A key that names no field is a ``ConfigError``.
        """
        if isinstance(other, RunConfig):
            changes = {
                f.name: getattr(other, f.name)
                for f in dataclasses.fields(RunConfig)
                if getattr(other, f.name) != getattr(_DEFAULTS, f.name)
            }
        else:
            unknown = sorted(set(other) - set(_FIELD_NAMES))
            if unknown:
                raise ConfigError(
                    f"unknown run setting(s): {', '.join(unknown)}",
                    hint=f"known: {', '.join(_FIELD_NAMES)}",
                )
            changes = {key: value for key, value in other.items() if value is not None}
        return self.replace(**changes) if changes else self

    def model_args_dict_or_text(self) -> str | dict[str, Any] | None:
        """``model_args`` as the registry and Ray take it: text, a plain dict, or None."""
        args = self.model_args
        return args if args is None or isinstance(args, str) else dict(args)

    def runtime(self) -> dict[str, Any]:
        """Run-wide settings for the adapter, by ``models.registry.RUNTIME_KEYS``.

        The registry's ``get_model`` is the one place that turns these into
        constructor arguments (None dropped, keys an adapter lacks refused); a gate
        left closed is None, so the adapter's own default applies.
        """
        return {
            "batch_size": self.batch_size,
            "device": self.device,
            "long_audio": self.long_audio,
            "long_context": self.long_context,
            "trust_remote_code": self.trust_remote_code or None,
            "allow_pickle": self.allow_pickle or None,
            "allow_weight_mismatch": self.allow_weight_mismatch or None,
        }


def _listed(conditions: Sequence[str | Condition] | str) -> Any:
    return conditions if isinstance(conditions, str) else list(conditions)


_DEFAULTS = RunConfig()
_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(RunConfig))


@dataclass(frozen=True)
class ExecutionOptions:
    """How and where the scores are computed; none of it changes a score.

    ``executor``: ``local`` (this process) or ``ray`` (a pool of actors);
    ``executor_args``: the Ray pool's options (replicas, gpus_per_replica, ...).
    """

    progress: bool = True
    executor: str = "local"
    executor_args: Mapping[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        """The Ray options are checked here, so ``evaluate(executor_args=...)``, ``sweep``
        and the CLI fail with the same one-line error before any work starts."""
        if self.executor_args is not None:
            check_ray_options(self.executor, self.executor_args)
            object.__setattr__(self, "executor_args", MappingProxyType(dict(self.executor_args)))

    def executor_args_dict(self) -> dict[str, Any] | None:
        return None if self.executor_args is None else dict(self.executor_args)
