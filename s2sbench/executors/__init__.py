"""Executors: where scoring runs. ``local`` is the evaluator's own loop; ``ray`` a Ray actor pool.

This package imports nothing heavy: Ray is imported only when ``--executor ray``
is used, so the CLI starts fast and Ray stays an optional extra
(``pip install 's2sbench[ray]'``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ConfigError
from s2sbench.core.run_config import ExecutionOptions, RunConfig
from s2sbench.core.scoring import ContinuationScore

EXECUTORS = ("local", "ray")


def check_executor(executor: str) -> None:
    if executor not in EXECUTORS:
        raise ConfigError(
            f"unknown executor '{executor}'", hint=f"use one of: {', '.join(EXECUTORS)}"
        )


def import_ray_pool() -> Any:
    """``s2sbench.executors.ray_pool``, or a one-line error saying how to install Ray."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ConfigError(
            "--executor ray needs Ray, which is not installed",
            hint="pip install 's2sbench[ray]'",
        ) from None
    from s2sbench.executors import ray_pool

    return ray_pool


def remote_model(executor: str, model: object) -> str:
    """The model as replicas rebuild it: a registry name or ``module:object`` string."""
    check_executor(executor)
    if not isinstance(model, str):
        raise ConfigError(
            f"--executor {executor} needs the model as a name or 'module:object' string, "
            f"not a {type(model).__name__} instance",
            hint="pass model='module:ClassName' (importable on every node) and its model_args",
        )
    return model


def remote_scores(
    config: RunConfig,
    pending: Sequence[ContextRequest],
    execution: ExecutionOptions,
) -> Iterator[tuple[int, list[ContinuationScore]]]:
    """Score ``pending`` on ``execution.executor``; yield ``(index into pending, scores)`` as
    shards finish.

    The replicas rebuild the model from its name and arguments, so ``config.model``
    must be a registry name or ``module:object`` string, never an instance
    living in this process. Before anything starts, the driver builds the model
    once more to learn its identity: each replica must report the same one.
    """
    executor = execution.executor
    model = remote_model(executor, config.model)
    if executor == "local":
        raise ConfigError("remote_scores runs remote executors only; 'local' is the evaluator's")
    ray_pool = import_ray_pool()
    from s2sbench.executors.ray_actor import ModelSpec
    from s2sbench.models.registry import get_model
    from s2sbench.scores.store import model_id

    model_args, runtime = config.model_args_dict_or_text(), config.runtime()
    expected = model_id(get_model(model, model_args, **runtime).fingerprint())
    unit = ray_pool.WorkUnit(ModelSpec(model, model_args, runtime), pending, expected)
    for _, index, scores in ray_pool.pool_scores([unit], execution.executor_args_dict()):
        yield index, scores
