"""Checkpoint sweeps on the Ray pool: every checkpoint x task x condition in one schedule.

A sweep hands over one work unit per checkpoint (its model arguments with the
checkpoint path, and every request of every task and condition still missing
from that checkpoint's store). The pool keeps each replica on one checkpoint
until that checkpoint has no shards left, then moves it to the largest
untouched checkpoint; so a replica loads each checkpoint at most once (barring
crash retries) and idle replicas join the biggest remaining checkpoint at the
end instead of waiting. Scores come back tagged with their unit, for the
caller to put into that checkpoint's store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore
from s2sbench.executors import import_ray_pool
from s2sbench.executors.ray_actor import ModelSpec
from s2sbench.models.registry import parse_model_args


@dataclass(frozen=True)
class CheckpointWork:
    """One checkpoint of a sweep and the requests still to score with it."""

    checkpoint: str | Path
    pending: Sequence[ContextRequest]
    expected_model_id: str | None = None


def sweep_scores(
    model: str,
    model_args: str | dict[str, Any] | None,
    runtime: dict[str, Any],
    work: Sequence[CheckpointWork],
    executor_args: dict[str, Any] | None = None,
    pretrained_key: str = "pretrained",
) -> Iterator[tuple[int, int, list[ContinuationScore]]]:
    """Score every checkpoint's pending requests on one Ray pool.

    Each checkpoint's model is ``model`` built with ``model_args`` plus
    ``{pretrained_key: checkpoint}``. Yields ``(index into work, index into
    that checkpoint's pending, scores)`` in finishing order; give each
    ``CheckpointWork`` the model id of the driver's own adapter for it
    (``model_id(adapter.fingerprint())``) so replicas that see other weights are
    caught.
    """
    ray_pool = import_ray_pool()
    base = parse_model_args(model_args)
    units = [
        ray_pool.WorkUnit(
            ModelSpec(model, {**base, pretrained_key: str(item.checkpoint)}, dict(runtime)),
            item.pending,
            item.expected_model_id,
        )
        for item in work
    ]
    yield from ray_pool.pool_scores(units, executor_args)
