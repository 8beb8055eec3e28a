"""How ``--executor ray`` scales with CPU actors, next to the ideal, on a tiny GPT-2.

Runs the built-in sample suite (T2T) through ``evaluate`` once locally (one
torch thread, like each actor) and then
on a local Ray instance with 1, 2 and 4 CPU actors (one torch thread each),
and prints for each: wall time of the whole ``evaluate`` call, the start-up
part of it (a run of one item per task: actor start, imports, model load),
the scoring part (wall minus start-up), speed-ups over 1 actor of both, the
ideal speed-up ``min(actors, cores)``, the speed-up the machine gives plain
processes at that moment (``machine``: other jobs may share the cores), and
the largest absolute difference of any continuation's log-prob from the local
run (float32 sums differ in their last bits with the batches' composition).

The model is random and saved to a temporary directory, nothing is
downloaded. Its size (``--n-embd``/``--n-layer``) sets the work per context:
the defaults make the 1-actor run score for about half a minute on an idle core, so the
whole benchmark needs a few minutes on 2 cores. Needs ``pip install
's2sbench[ray,hf]'``.

    python benchmarks/bench_ray_scaling.py [--actors 1 2 4] [--n-embd 512 --n-layer 8]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

TASKS = ["sample_story_en", "sample_story_zh", "sample_cmmlu"]


def scores_of(result: Any) -> dict[tuple[str, str, int], float]:
    """Every continuation's log-prob, keyed by (task, item, continuation)."""
    out = {}
    for cell in result.cells:
        for request, record in zip(cell.requests, cell.records):
            for index, score in enumerate(record.scores):
                out[cell.task.name, request.item_id, index] = score.logprob_sum
    return out


def _matmuls(rounds: int) -> float:
    import torch

    torch.set_num_threads(1)
    a = torch.randn(256, 256)
    start = time.perf_counter()
    for _ in range(rounds):
        a @ a
    return time.perf_counter() - start


def machine_speedup(processes: int, rounds: int = 2000) -> float:
    """Throughput of ``processes`` plain processes doing fixed single-thread work, over one.

    The control column: what the cores actually give right now (other jobs
    share them), with no Ray involved.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    timings = []
    for count in (1, processes):
        with context.Pool(count) as pool:
            pool.map(_matmuls, [rounds // 10] * count)  # start-up and imports, not timed
            start = time.perf_counter()
            pool.map(_matmuls, [rounds] * count)
            timings.append(time.perf_counter() - start)
    return processes * timings[0] / timings[1]


def timed_run(model_args: dict[str, Any], batch_size: int, **kw: Any) -> tuple[float, Any]:
    from s2sbench import evaluate

    start = time.perf_counter()
    result = evaluate(
        "hf",
        model_args,
        tasks=TASKS,
        conditions=["t2t"],
        batch_size=batch_size,
        progress=False,
        **kw,
    )
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--n-embd", type=int, default=512)
    parser.add_argument("--n-layer", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    import ray
    from tiny_models import make_gpt2

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        path = make_gpt2(Path(tmp) / "gpt2", n_embd=args.n_embd, n_layer=args.n_layer, n_head=8)
        model_args = {"pretrained": str(path), "dtype": "float32"}
        import torch

        torch.set_num_threads(1)  # as each actor: a fair 1-core baseline, same float sums
        local_s, local = timed_run(model_args, args.batch_size)
        reference = scores_of(local)
        n_contexts = local.config["scored_now"]
        print(
            f"workload: {n_contexts} contexts, {len(reference)} continuations, GPT-2 "
            f"n_embd={args.n_embd} n_layer={args.n_layer}, batch size {args.batch_size}, "
            f"{cores} cores"
        )
        print(f"local executor, 1 torch thread: {local_s:.1f} s")
        print(f"load average before Ray: {os.getloadavg()[0]:.1f}")

        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        ray.init(
            num_cpus=max(max(args.actors), cores),
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
        rows = []
        try:
            for actors in args.actors:
                pool = {"replicas": actors, "cpus_per_replica": 1}
                startup_s, _ = timed_run(
                    model_args, args.batch_size, limit=1, executor="ray", executor_args=pool
                )
                wall_s, result = timed_run(
                    model_args, args.batch_size, executor="ray", executor_args=pool
                )
                got = scores_of(result)
                assert got.keys() == reference.keys()
                diff = max(abs(got[k] - reference[k]) for k in reference)
                rows.append((actors, wall_s, startup_s, diff, machine_speedup(actors)))
        finally:
            ray.shutdown()

    print(f"load average after: {os.getloadavg()[0]:.1f} (other processes share the cores)")
    one = next((row for row in rows if row[0] == 1), None)
    print(
        f"{'actors':>6} {'wall s':>7} {'start-up s':>10} {'scoring s':>9} {'speed-up':>8} "
        f"{'scoring speed-up':>16} {'ideal':>6} {'machine':>8} {'max |dlogprob|':>14}"
    )
    for actors, wall_s, startup_s, diff, machine in rows:
        scoring_s = max(wall_s - startup_s, 1e-9)
        if one is not None:
            speedup = f"{one[1] / wall_s:.2f}x"
            scoring_speedup = f"{max(one[1] - one[2], 1e-9) / scoring_s:.2f}x"
        else:
            speedup = scoring_speedup = "-"
        print(
            f"{actors:>6} {wall_s:>7.1f} {startup_s:>10.1f} {scoring_s:>9.1f} {speedup:>8} "
            f"{scoring_speedup:>16} {min(actors, cores):>5}x {machine:>7.2f}x {diff:>14.2e}"
        )


if __name__ == "__main__":
    main()
