"""The Ray pool's options (``executor_args``), checked once for the CLI and the API.

``ExecutionOptions`` calls :func:`check_ray_options` when it is built, and the CLI
builds the same dict from its flags (``--ray-address`` is the ``address`` key), so
``evaluate(executor="ray", executor_args={"replicas": 0})`` and ``s2sbench run
--executor ray --replicas 0`` fail with the same one-line ``ConfigError``. The
messages name the CLI flag, which also says which ``executor_args`` key is wrong.
Checking needs no Ray; unknown keys are refused when the pool is built
(``s2sbench.executors.ray_setup.PoolOptions``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from s2sbench.core.errors import ConfigError

# executor_args key -> the run/sweep flag that sets it
RAY_FLAGS = {
    "replicas": "--replicas",
    "gpus_per_replica": "--gpus-per-replica",
    "cpus_per_replica": "--cpus-per-replica",
    "address": "--ray-address",
    "shard_size": "--shard-size",
}


def ray_flag(key: str) -> str:
    return RAY_FLAGS.get(key, key)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_ray_options(executor: str, executor_args: Mapping[str, Any]) -> None:
    """Refuse Ray options given for the local executor and values no pool can use.

    An option set to None is unset (the pool chooses), as on the command line.
    """
    given = {key: value for key, value in executor_args.items() if value is not None}
    if executor == "local":
        if given:
            flags = ", ".join(ray_flag(key) for key in given)
            raise ConfigError(f"{flags} only apply with --executor ray")
        return
    for key in ("replicas", "shard_size"):
        value = given.get(key)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool)):
            raise ConfigError(f"{ray_flag(key)} must be a whole number", hint="e.g. 2")
        if value is not None and value < 1:
            raise ConfigError(f"{ray_flag(key)} must be at least 1")
    for key in ("gpus_per_replica", "cpus_per_replica"):
        value = given.get(key)
        if value is not None and not (_is_number(value) and math.isfinite(value)):
            flag = ray_flag(key)
            raise ConfigError(f"{flag} must be a finite number", hint=f"e.g. {flag} 1")
    if given.get("gpus_per_replica", 0) < 0:
        raise ConfigError("--gpus-per-replica must be 0 (CPU replicas) or more")
    if given.get("cpus_per_replica", 1) <= 0:
        raise ConfigError("--cpus-per-replica must be more than 0")
