"""Joining or starting Ray, and the pool's options: the set-up before any replica exists.

``connect`` joins ``--ray-address`` / ``RAY_ADDRESS`` or starts a private local
instance sized for the replicas asked for; ``plugin_env`` lets replicas import
a ``module:object`` plugin from where the driver found it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray

from s2sbench.core.errors import ConfigError
from s2sbench.models.registry import MODEL_REGISTRY


@dataclass
class PoolOptions:
    """The ``executor_args`` of ``--executor ray``; None means "choose for me"."""

    replicas: int | None = None
    gpus_per_replica: float | None = None
    cpus_per_replica: float = 1.0
    address: str | None = None
    shard_size: int | None = None
    max_attempts: int = 3
    ready_timeout_s: float = 600.0
    runtime_env: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def from_args(args: dict[str, Any] | None) -> PoolOptions:
        known = set(PoolOptions.__dataclass_fields__)
        unknown = sorted(set(args or {}) - known)
        if unknown:
            raise ConfigError(
                f"unknown Ray executor option(s): {', '.join(unknown)}",
                hint=f"known: {', '.join(sorted(known))}",
            )
        return PoolOptions(**{k: v for k, v in (args or {}).items() if v is not None})


def connect(options: PoolOptions, local_cpus: int) -> bool:
    """Join ``--ray-address``/``RAY_ADDRESS`` or start a local instance; True if we started it."""
    if ray.is_initialized():
        return False
    address = options.address or os.environ.get("RAY_ADDRESS") or None
    quiet: dict[str, Any] = {"logging_level": logging.WARNING}
    try:
        if address is not None:
            ray.init(address=address, **quiet)
            return False
        try:
            ray.init(
                num_cpus=max(os.cpu_count() or 1, local_cpus), include_dashboard=False, **quiet
            )
        except ValueError:  # a Ray instance already runs here: join it as it is
            ray.init(**quiet)
            return False
    except ConnectionError as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address} ({exc})",
            hint="start the head node (ray start --head) or fix RAY_ADDRESS / --ray-address",
        ) from None
    return True


def plugin_env(model: str) -> dict[str, str]:
    """Make a ``module:object`` plugin importable by replicas as it is by the driver."""
    if model in MODEL_REGISTRY or ":" not in model:
        return {}
    top = model.partition(":")[0].split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return {}
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return {}
    origin = Path(spec.origin).resolve()
    root = origin.parent.parent if spec.submodule_search_locations else origin.parent
    paths = [str(root), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
