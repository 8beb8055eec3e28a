"""``--executor ray`` on one local Ray instance: same numbers as local, crashes retried.

One Ray instance (2 CPUs) serves the whole session. The plugins below are
imported by the replicas through ``test_ray_executor:...`` strings; the pool
puts this directory on their PYTHONPATH as it is on the driver's sys.path.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from fake_models import HashModel  # noqa: E402

from s2sbench import evaluate  # noqa: E402
from s2sbench.cli.ray_args import add_executor_args, executor_kwargs  # noqa: E402
from s2sbench.core.conditions import Condition  # noqa: E402
from s2sbench.core.errors import ConfigError, ModelError  # noqa: E402
from s2sbench.executors.ray_sweep import CheckpointWork, sweep_scores  # noqa: E402
from s2sbench.executors.scheduling import ShardQueue  # noqa: E402
from s2sbench.models.registry import get_model  # noqa: E402
from s2sbench.requests.build import build_requests  # noqa: E402
from s2sbench.requests.prompts import get_template  # noqa: E402
from s2sbench.tasks.registry import BUILTIN_TASKS  # noqa: E402

TASKS = ["sample_story_en", "sample_cmmlu"]
POOL = {"replicas": 2, "shard_size": 4}


class DiesOnce:
    """Wraps the ``hf`` adapter; the first replica to reach its second shard kills its process.

    A marker file makes it fire once per test, whichever replica gets there
    first; the process exit is abrupt (no exception, no cleanup), like an
    out-of-memory kill or a preempted node.
    """

    def __init__(self, marker: str, pretrained: str, dtype: str, **runtime: Any):
        self.marker = Path(marker)
        self.inner = get_model("hf", {"pretrained": pretrained, "dtype": dtype}, **runtime)
        self.name = self.inner.name
        self.shards = 0

    def fingerprint(self) -> dict[str, Any]:
        return self.inner.fingerprint()

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return self.inner.unsupported_reason(condition, lang)

    def score(self, requests: Sequence[Any]) -> Iterator[tuple[int, list[Any]]]:
        self.shards += 1
        if self.shards == 2 and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os._exit(1)
        yield from self.inner.score(requests)


class AlwaysDies(HashModel):
    def score(self, requests: Sequence[Any]) -> Iterator[tuple[int, list[Any]]]:
        os._exit(1)
        yield from ()


class RaisesModelError(HashModel):
    def score(self, requests: Sequence[Any]) -> Iterator[tuple[int, list[Any]]]:
        raise ModelError("item too long for this model", where="replica test")
        yield from ()


class LogsLoads(HashModel):
    """HashModel that appends ``pid salt`` to a file each time it is built."""

    def __init__(self, salt: str = "a", log_file: str = "", **kw: Any):
        super().__init__(salt, **kw)
        with open(log_file, "a") as handle:
            handle.write(f"{os.getpid()} {salt}\n")


@pytest.fixture(scope="session", autouse=True)
def ray_instance() -> Iterator[None]:
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    ray.init(
        num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def gpt2(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tiny_models import make_gpt2

    path = make_gpt2(tmp_path_factory.mktemp("gpt2"))
    return {"pretrained": str(path), "dtype": "float32"}


@pytest.fixture
def one_thread() -> Iterator[None]:
    """The local reference on one torch thread, as each replica (1 CPU) runs: float32 CPU
    kernels split their sums by thread count, so 1 and 2 threads differ in the last bits."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run(out: Path, model: Any, model_args: Any = None, **kw: Any) -> dict[str, Any]:
    """One evaluation; batch size 1, as padded batches of other lengths change float32 sums
    in the last bits and shards batch differently from one local pass."""
    return evaluate(
        model,
        model_args,
        tasks=TASKS,
        conditions=["t2t"],
        output_path=out,
        progress=False,
        log_samples=True,
        batch_size=1,
        **kw,
    ).to_json()


def same_outputs(a: Path, b: Path, ra: dict[str, Any], rb: dict[str, Any]) -> None:
    assert ra["results"] == rb["results"]
    for task in TASKS:
        name = f"samples_{task}_t2t.jsonl"
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_tiny_gpt2_on_two_replicas_matches_local(
    tmp_path: Path, gpt2: dict, one_thread: None
) -> None:
    local = run(tmp_path / "local", "hf", gpt2, limit=24)
    remote = run(tmp_path / "ray", "hf", gpt2, limit=24, executor="ray", executor_args=POOL)
    same_outputs(tmp_path / "local", tmp_path / "ray", local, remote)
    assert remote["config"]["model_id"] == local["config"]["model_id"]
    assert remote["config"]["scored_now"] == 48


def test_killed_replica_is_retried_and_results_match(
    tmp_path: Path, gpt2: dict, one_thread: None, caplog: pytest.LogCaptureFixture
) -> None:
    local = run(tmp_path / "local", "hf", gpt2, limit=16)
    marker = tmp_path / "died"
    args = {**gpt2, "marker": str(marker)}
    with caplog.at_level(logging.WARNING, logger="s2sbench.executors.ray_pool"):
        remote = run(
            tmp_path / "ray",
            "test_ray_executor:DiesOnce",
            args,
            limit=16,
            executor="ray",
            executor_args=POOL,
        )
    assert marker.exists() and int(marker.read_text()) != os.getpid()
    assert "a Ray replica died" in caplog.text
    same_outputs(tmp_path / "local", tmp_path / "ray", local, remote)


def test_ray_resumes_a_local_store(tmp_path: Path) -> None:
    reference = run(tmp_path / "ref", HashModel())
    run(tmp_path / "mixed", HashModel(), limit=5)
    resumed = run(tmp_path / "mixed", "fake_models:HashModel", executor="ray", executor_args=POOL)
    assert resumed["config"]["reused_from_store"] == 10
    same_outputs(tmp_path / "ref", tmp_path / "mixed", reference, resumed)


def test_model_errors_come_back_unretried(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="item too long for this model"):
        run(tmp_path, "test_ray_executor:RaisesModelError", executor="ray", executor_args=POOL)


def test_retries_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="lost its replica 2 times"):
        run(
            tmp_path,
            "test_ray_executor:AlwaysDies",
            limit=2,
            executor="ray",
            executor_args={"replicas": 1, "max_attempts": 2},
        )


def test_model_instance_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="module:object"):
        run(tmp_path, HashModel(), executor="ray")


def test_sweep_loads_each_checkpoint_once_per_replica(tmp_path: Path) -> None:
    template = get_template("reference")
    requests = build_requests(BUILTIN_TASKS["sample_story_en"].load(), Condition.T2T, template)
    salts = ["s1", "s2", "s3"]
    work = [CheckpointWork(salt, requests[: 10 + 6 * i]) for i, salt in enumerate(salts)]
    log_file = tmp_path / "loads.txt"
    got = {}
    for unit, index, scores in sweep_scores(
        "test_ray_executor:LogsLoads",
        {"log_file": str(log_file)},
        {},
        work,
        {"replicas": 2, "shard_size": 3},
        pretrained_key="salt",
    ):
        assert (unit, index) not in got
        got[unit, index] = scores
    for unit, item in enumerate(work):
        expected = dict(HashModel(salts[unit]).score(item.pending))
        assert {i: got[unit, i] for i in range(len(item.pending))} == expected
    loads = log_file.read_text().split("\n")[:-1]
    assert len(loads) == len(set(loads)) >= len(salts)


def test_shard_queue_keeps_replicas_on_their_checkpoint() -> None:
    queue = ShardQueue([6, 2, 4], shard_size=2, max_attempts=2)
    first, second = queue.take(None), queue.take(None)
    assert (first.unit, second.unit) == (0, 2)  # largest untouched units first
    assert queue.take(0).unit == 0
    queue.retry(first, "test")
    assert queue.take(0) == first
    with pytest.raises(ModelError, match="lost its replica 2 times"):
        queue.retry(first, "test")


def test_cli_executor_args() -> None:
    parser = argparse.ArgumentParser()
    add_executor_args(parser)
    args = parser.parse_args(
        ["--executor", "ray", "--replicas", "3", "--gpus-per-replica", "1", "--ray-address", "auto"]
    )
    assert executor_kwargs(args) == (
        "ray",
        {"replicas": 3, "gpus_per_replica": 1.0, "address": "auto"},
    )
    assert executor_kwargs(parser.parse_args([])) == ("local", None)
    with pytest.raises(ConfigError, match="only apply with --executor ray"):
        executor_kwargs(parser.parse_args(["--replicas", "2"]))
    with pytest.raises(ConfigError, match="at least 1"):
        executor_kwargs(parser.parse_args(["--executor", "ray", "--replicas", "0"]))


def test_missing_ray_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from s2sbench.executors import import_ray_pool

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match=r"pip install 's2sbench\[ray\]'"):
        import_ray_pool()


def test_sweep_command_on_ray_matches_local(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, one_thread: None
) -> None:
    """``sweep(..., executor="ray")``: every checkpoint planned, one pool, same files."""
    from tiny_models import make_gpt2

    from s2sbench.sweeps.run_sweep import sweep

    run_dir = tmp_path_factory.mktemp("run")
    for n, step in enumerate((10, 20), start=1):
        make_gpt2(run_dir / f"ckpt_{n}_{step}_x", seed=n)
    common = {
        "model": "hf",
        "model_args": {"dtype": "float32"},
        "tasks": ["sample_story_en"],
        "conditions": ["t2t"],
        "limit": 12,
        "progress": False,
        "batch_size": 1,
    }
    local = sweep(str(run_dir / "ckpt_*"), tmp_path / "local", **common)
    pooled = sweep(
        str(run_dir / "ckpt_*"), tmp_path / "ray", executor="ray", executor_args=POOL, **common
    )
    assert pooled.evaluated == local.evaluated == ["ckpt_1_10_x", "ckpt_2_20_x"]
    for summary in ("summary.txt", "summaries/sample_story_en_t2t/results_summary.txt"):
        assert (tmp_path / "ray" / summary).read_bytes() == (
            tmp_path / "local" / summary
        ).read_bytes()
    for name in local.evaluated:
        samples = "samples_sample_story_en_t2t.jsonl"
        a, b = tmp_path / "local" / name, tmp_path / "ray" / name
        assert (a / samples).read_bytes() == (b / samples).read_bytes()
    again = sweep(
        str(run_dir / "ckpt_*"), tmp_path / "ray", executor="ray", executor_args=POOL, **common
    )
    assert again.evaluated == [] and again.skipped == local.evaluated
