"""``--executor`` and the Ray pool's options, shared by ``run`` and ``sweep``.

Parsing never imports Ray: an unset option stays None, so the pool chooses
(as many replicas as the cluster fits, one GPU each where there are GPUs).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from s2sbench.core.errors import ConfigError
from s2sbench.executors import EXECUTORS

RAY_OPTIONS = ("replicas", "gpus_per_replica", "cpus_per_replica", "ray_address", "shard_size")


def add_executor_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("execution (Ray: pip install 's2sbench[ray]')")
    group.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="local",
        help="local: score in this process; ray: shard the work over a pool of Ray actors, "
        "each holding one model replica (default: local)",
    )
    group.add_argument(
        "--replicas",
        type=int,
        default=None,
        metavar="N",
        help="Ray actors, one model replica each (default: as many as the cluster fits)",
    )
    group.add_argument(
        "--gpus-per-replica",
        type=float,
        default=None,
        metavar="G",
        help="GPUs per replica; 0 for CPU replicas (default: 1 if the cluster has GPUs, else 0)",
    )
    group.add_argument(
        "--cpus-per-replica",
        type=float,
        default=None,
        metavar="C",
        help="CPU cores per replica, also its torch thread count (default: 1)",
    )
    group.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="Ray cluster to join, e.g. ray://head:10001 or auto (default: $RAY_ADDRESS, "
        "else a local instance)",
    )
    group.add_argument(
        "--shard-size",
        type=int,
        default=None,
        metavar="K",
        help="contexts per shard sent to a replica (default: about 4 shards per replica, "
        "at most 64 contexts)",
    )


def executor_kwargs(args: argparse.Namespace) -> tuple[str, dict[str, Any] | None]:
    """``(executor, executor_args)`` for ``evaluate``; Ray options with ``local`` are an error."""
    given: dict[str, Any] = {
        name: value for name in RAY_OPTIONS if (value := getattr(args, name, None)) is not None
    }
    if args.executor == "local":
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise ConfigError(f"{flags} only apply with --executor ray")
        return "local", None
    for name in ("replicas", "shard_size"):
        if name in given and given[name] < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("gpus_per_replica", "cpus_per_replica"):
        if name in given and not math.isfinite(given[name]):
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} must be a finite number", hint=f"e.g. {flag} 1")
    if given.get("gpus_per_replica", 0) < 0:
        raise ConfigError("--gpus-per-replica must be 0 (CPU replicas) or more")
    if "cpus_per_replica" in given and given["cpus_per_replica"] <= 0:
        raise ConfigError("--cpus-per-replica must be more than 0")
    if "ray_address" in given:
        given["address"] = given.pop("ray_address")
    return args.executor, given
