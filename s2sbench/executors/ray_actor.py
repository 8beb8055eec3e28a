"""The replica: one process (a Ray actor) holding one model on its own GPU or CPU.

A plain class, made remote by the pool with ``ray.remote(...).options(...)``,
so this module imports without Ray. The replica builds its model with the same
``get_model`` call the local executor uses and loads a unit's model the first
time a shard of that unit arrives, keeping it while further shards of the same
unit follow. Errors raised by the model (bad arguments, unscorable data) come
back as values, so the driver re-raises them as the same one-line error instead
of retrying a shard that would fail identically; only a dead process is retried.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore


@dataclass(frozen=True)
class ModelSpec:
    """How a replica builds one unit's model: exactly the local executor's arguments."""

    model: str
    model_args: str | dict[str, Any] | None
    runtime: dict[str, Any]


@dataclass(frozen=True)
class ShardResult:
    """A scored shard: the model's identity and ``(index in shard, scores)`` pairs."""

    model_id: str
    scores: list[tuple[int, list[ContinuationScore]]]
    pid: int


@dataclass(frozen=True)
class ShardFailure:
    """A Python error raised while building the model or scoring: re-raised by the driver."""

    error_type: str
    message: str
    traceback: str


class ScoringReplica:
    """Builds models on demand and scores shards with them, one call at a time."""

    def __init__(self, threads: int | None = None):
        self._threads = threads
        self._unit: int | None = None
        self._model: Any = None
        self._model_id = ""

    def ping(self) -> int:
        """Answered once the process is up: the driver sends work only to live replicas."""
        return os.getpid()

    def _load(self, unit: int, spec: ModelSpec) -> None:
        from s2sbench.models.registry import get_model
        from s2sbench.scores.store import model_id

        self._model = None
        self._unit = None
        gc.collect()
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()
        model = get_model(spec.model, spec.model_args, **spec.runtime)
        self._model_id = model_id(model.fingerprint())
        self._model, self._unit = model, unit

    def _limit_threads(self) -> None:
        """One replica per core by default: torch would otherwise use every core per replica."""
        torch = sys.modules.get("torch")
        if self._threads and torch is not None and torch.get_num_threads() != self._threads:
            torch.set_num_threads(self._threads)

    def score(
        self, unit: int, spec: ModelSpec, requests: Sequence[ContextRequest]
    ) -> ShardResult | ShardFailure:
        from s2sbench.core.progress import show_progress

        try:
            with show_progress(False):  # the driver's bar counts; replicas load and score quietly
                if unit != self._unit:
                    self._load(unit, spec)
                self._limit_threads()
                scores = [(index, list(s)) for index, s in self._model.score(requests)]
            return ShardResult(self._model_id, scores, os.getpid())
        except Exception as exc:  # noqa: BLE001 -- sent back to the driver, which re-raises it
            return ShardFailure(
                f"{type(exc).__module__}.{type(exc).__qualname__}",
                str(exc),
                traceback.format_exc(),
            )
