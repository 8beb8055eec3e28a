"""``--executor`` and the Ray pool's options, shared by ``run`` and ``sweep``.

Parsing never imports Ray: an unset option stays None, so the pool chooses
(as many replicas as the cluster fits, one GPU each where there are GPUs).
"""

from __future__ import annotations

import argparse
from typing import Any

from s2sbench.core.ray_options import check_ray_options
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
    """``(executor, executor_args)`` for ``evaluate``, checked as ``ExecutionOptions``
    checks them (:func:`s2sbench.core.ray_options.check_ray_options`)."""
    given: dict[str, Any] = {
        "address" if name == "ray_address" else name: value
        for name in RAY_OPTIONS
        if (value := getattr(args, name, None)) is not None
    }
    check_ray_options(args.executor, given)
    if args.executor == "local":
        return "local", None
    return args.executor, given
