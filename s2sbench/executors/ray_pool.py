"""A pool of Ray actors, each one model replica, scoring shards of requests.

The driver keeps the one content-keyed score store: replicas only compute and
send back ``(request index, scores)``, which the pool yields as shards finish,
so resume and caching behave exactly as with the local executor. A replica
that dies (crash, out-of-memory kill, preempted node) is replaced and its
shards go back to the queue, tried at most ``max_attempts`` times each. Each
replica's model identity (the store's model id) is checked against the
driver's, so a node that sees different weights under the same path cannot
slip foreign scores into the store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import ray
from ray.exceptions import ObjectLostError, RayActorError, RayTaskError, WorkerCrashedError

from s2sbench.core import errors
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ConfigError, ModelError
from s2sbench.core.scoring import ContinuationScore
from s2sbench.executors.ray_actor import ModelSpec, ScoringReplica, ShardFailure, ShardResult
from s2sbench.executors.ray_setup import PoolOptions, connect, plugin_env
from s2sbench.executors.scheduling import Shard, ShardQueue, auto_shard_size

log = logging.getLogger(__name__)

#: Errors that mean "the process or node is gone", not "the model failed": retried elsewhere.
REPLICA_LOST = (RayActorError, WorkerCrashedError, ObjectLostError)
#: Shards queued on one replica: one running, one waiting, so it never idles between shards.
IN_FLIGHT_PER_REPLICA = 2
#: How often the driver wakes up to check that some replica has started.
POLL_S = 2.0


@dataclass(frozen=True)
class WorkUnit:
    """One model (or checkpoint) and the requests to score with it."""

    spec: ModelSpec
    requests: Sequence[ContextRequest]
    expected_model_id: str | None = None


@dataclass
class Slot:
    """One place in the pool: the actor now filling it and what it has loaded."""

    actor: Any
    generation: int = 0
    ready: bool = False
    unit: int | None = None
    in_flight: int = 0


class RayPool:
    """``replicas`` actors of ``gpus_per_replica`` GPUs each; ``run`` schedules units on them."""

    def __init__(self, options: PoolOptions, env_vars: dict[str, str] | None = None):
        self.options = options
        gpus = options.gpus_per_replica
        if gpus is None:
            gpus = 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
        if gpus < 0 or options.cpus_per_replica <= 0:
            raise ConfigError("--gpus-per-replica must be >= 0 and CPUs per replica > 0")
        self.gpus = gpus
        self.replicas = options.replicas or self._replicas_that_fit()
        if self.replicas < 1:
            raise ConfigError("--replicas must be at least 1")
        self._check_resources()
        runtime_env = dict(options.runtime_env)
        if env_vars:
            runtime_env["env_vars"] = {**runtime_env.get("env_vars", {}), **env_vars}
        self._actor_cls = ray.remote(ScoringReplica).options(
            num_cpus=options.cpus_per_replica,
            num_gpus=gpus,
            max_restarts=0,
            runtime_env=runtime_env or None,
        )
        self._threads = max(1, int(options.cpus_per_replica))
        self.slots = [Slot(self._spawn()) for _ in range(self.replicas)]
        self.respawns_left = self.replicas * options.max_attempts
        self.deaths = 0

    def _replicas_that_fit(self) -> int:
        total = ray.cluster_resources()
        if self.gpus > 0:
            return max(1, int(total.get("GPU", 0) // self.gpus))
        return max(1, int(total.get("CPU", 1) // self.options.cpus_per_replica))

    def _check_resources(self) -> None:
        total = ray.cluster_resources()
        have_gpus, have_cpus = total.get("GPU", 0.0), total.get("CPU", 0.0)
        if self.gpus > have_gpus:
            raise ConfigError(
                f"each replica asks for {self.gpus:g} GPU(s) but the Ray cluster has {have_gpus:g}",
                hint="use --gpus-per-replica 0 for CPU replicas or join a cluster with GPUs",
            )
        fit = min(
            have_gpus // self.gpus if self.gpus else self.replicas,
            have_cpus // self.options.cpus_per_replica,
        )
        if fit < self.replicas:
            log.warning(
                "the Ray cluster fits %d of the %d replicas asked for now; the rest start "
                "when resources free up (or never, on a fixed-size cluster)",
                fit,
                self.replicas,
            )

    def _spawn(self) -> Any:
        return self._actor_cls.remote(self._threads)

    def _replace(self, slot: Slot, queue: ShardQueue, why: str) -> None:
        self.deaths += 1
        queue.release(slot.unit)
        if self.respawns_left <= 0:
            raise ModelError(
                f"Ray replicas died {self.deaths} times; giving up (last: {why})",
                hint="check the Ray logs (ray logs / /tmp/ray/session_latest/logs) for the cause",
            )
        self.respawns_left -= 1
        log.warning("a Ray replica died (%s); starting another and retrying its shards", why)
        ray.kill(slot.actor, no_restart=True)
        slot.actor, slot.generation = self._spawn(), slot.generation + 1
        slot.ready, slot.unit, slot.in_flight = False, None, 0

    def shutdown(self) -> None:
        for slot in self.slots:
            ray.kill(slot.actor, no_restart=True)

    def run(self, units: Sequence[WorkUnit]) -> Iterator[tuple[int, int, list[ContinuationScore]]]:
        """Yield ``(unit index, request index, scores)`` for every request, in finishing order."""
        self._check_devices(units)
        sizes = [len(u.requests) for u in units]
        size = self.options.shard_size or auto_shard_size(sum(sizes), self.replicas)
        queue = ShardQueue(sizes, size, self.options.max_attempts)
        refs: dict[Any, tuple[int, int, Shard | None]] = {}
        for index, slot in enumerate(self.slots):
            refs[slot.actor.ping.remote()] = (index, slot.generation, None)
        waiting_since = time.monotonic()
        while queue.unfinished:
            self._dispatch(units, queue, refs)
            done, _ = ray.wait(list(refs), num_returns=1, timeout=POLL_S)
            if not done:
                self._check_started(waiting_since)
                continue
            for ref in done:
                index, generation, shard = refs.pop(ref)
                slot = self.slots[index]
                try:
                    value = ray.get(ref)
                except REPLICA_LOST as exc:
                    if shard is not None:
                        queue.retry(shard, type(exc).__name__)
                    if generation == slot.generation:
                        self._replace(slot, queue, type(exc).__name__)
                        refs[slot.actor.ping.remote()] = (index, slot.generation, None)
                        if not any(s.ready for s in self.slots):
                            waiting_since = time.monotonic()
                    continue
                except RayTaskError as exc:  # failed outside the model: transport, unpickling
                    raise ModelError(
                        f"a Ray replica call failed: {exc.cause or exc}",
                        hint="every node needs the same Python environment and s2sbench version",
                    ) from None
                if shard is None:
                    slot.ready = True
                    waiting_since = time.monotonic()
                    continue
                slot.in_flight -= 1
                yield from self._accept(units[shard.unit], shard, value)
                queue.done(shard)

    def _dispatch(self, units: Sequence[WorkUnit], queue: ShardQueue, refs: dict[Any, Any]) -> None:
        for index, slot in enumerate(self.slots):
            while slot.ready and slot.in_flight < IN_FLIGHT_PER_REPLICA:
                shard = queue.take(slot.unit)
                if shard is None:
                    return
                slot.unit, slot.in_flight = shard.unit, slot.in_flight + 1
                unit = units[shard.unit]
                requests = list(unit.requests[shard.start : shard.stop])
                ref = slot.actor.score.remote(shard.unit, unit.spec, requests)
                refs[ref] = (index, slot.generation, shard)

    def _check_devices(self, units: Sequence[WorkUnit]) -> None:
        for unit in units:
            device = str(unit.spec.runtime.get("device") or "")
            if device.startswith("cuda") and self.gpus == 0:
                raise ConfigError(
                    f"device '{device}' asked for, but Ray replicas get no GPU",
                    hint="add --gpus-per-replica 1 (each replica then sees its own GPU as cuda)",
                )
            if device.startswith("cuda:") and device != "cuda:0":
                raise ConfigError(
                    f"device '{device}' names one GPU, but each Ray replica sees only its own",
                    hint="use --device cuda: Ray gives every replica its own GPU(s)",
                )

    def _check_started(self, since: float) -> None:
        if any(s.ready for s in self.slots):
            return
        if time.monotonic() - since > self.options.ready_timeout_s:
            raise ConfigError(
                f"no Ray replica started within {self.options.ready_timeout_s:g} s "
                f"({self.gpus:g} GPU(s), {self.options.cpus_per_replica:g} CPU(s) each)",
                hint="the cluster lacks free resources: lower --gpus-per-replica or --replicas",
            )

    @staticmethod
    def _accept(
        unit: WorkUnit, shard: Shard, value: ShardResult | ShardFailure
    ) -> Iterator[tuple[int, int, list[ContinuationScore]]]:
        if isinstance(value, ShardFailure):
            raise _reraise(value)
        if unit.expected_model_id and value.model_id != unit.expected_model_id:
            raise ModelError(
                f"a Ray replica (pid {value.pid}) built a different model than the driver "
                f"(model id {value.model_id} vs {unit.expected_model_id})",
                hint="every node must see the same weights at the same path and the same "
                "s2sbench version",
            )
        for local, scores in value.scores:
            if not 0 <= local < len(shard):
                raise ModelError(f"a Ray replica returned request index {local} out of range")
            yield shard.unit, shard.start + local, scores


def _reraise(failure: ShardFailure) -> Exception:
    """The replica's error as the same s2sbench error class, else a ModelError with its type."""
    module, _, name = failure.error_type.rpartition(".")
    cls = getattr(errors, name, None) if module == errors.__name__ else None
    if isinstance(cls, type) and issubclass(cls, errors.S2SBenchError):
        return cls(failure.message)
    last = failure.traceback.strip().splitlines()[-3:]
    return ModelError(
        f"a Ray replica failed: {failure.error_type}: {failure.message}",
        hint="replica traceback ends: " + " | ".join(line.strip() for line in last),
    )


def pool_scores(
    units: Sequence[WorkUnit], executor_args: dict[str, Any] | None
) -> Iterator[tuple[int, int, list[ContinuationScore]]]:
    """Start (or join) Ray, run ``units`` on a fresh pool, and clean up whatever happens."""
    options = PoolOptions.from_args(executor_args)
    env_vars: dict[str, str] = {}
    for unit in units:
        env_vars.update(plugin_env(unit.spec.model))
    wanted_cpus = int((options.replicas or 1) * options.cpus_per_replica)
    started = connect(options, wanted_cpus if not options.gpus_per_replica else 0)
    try:
        pool = RayPool(options, env_vars)
        try:
            yield from pool.run(units)
        finally:
            pool.shutdown()
    finally:
        if started:
            ray.shutdown()
