"""``RunConfig.merge`` (inspect_ai's ``GenerateConfig.merge``) and the Ray options checked
in ``ExecutionOptions``, so the API and the CLI refuse a bad value with the same line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import s2sbench.evaluator as evaluator
import s2sbench.sweeps.run_sweep as run_sweep
from s2sbench.cli.main import main
from s2sbench.core.conditions import Condition
from s2sbench.core.errors import ConfigError
from s2sbench.core.run_config import ExecutionOptions, RunConfig
from s2sbench.sweeps.run_sweep import sweep

BASE = RunConfig(
    model="ngram", tasks=("sample_story_en",), limit=4, seed=7, long_context="truncate"
)


def test_set_values_of_a_mapping_win_and_unset_ones_keep() -> None:
    merged = BASE.merge({"limit": 9, "seed": None, "conditions": "t2t", "model_args": None})
    assert merged == BASE.replace(limit=9, conditions="t2t")
    assert (merged.seed, merged.model, merged.long_context) == (7, "ngram", "truncate")
    assert merged.conditions == (Condition.T2T,)  # normalised like a new config
    assert BASE.merge({}) is BASE and BASE.merge({"limit": None}) == BASE


def test_fields_another_config_sets_win_and_its_defaults_keep() -> None:
    other = RunConfig(limit=2, device="cpu")  # everything else at the defaults
    merged = BASE.merge(other)
    assert merged == BASE.replace(limit=2, device="cpu")
    assert BASE.merge(RunConfig()) == BASE
    assert RunConfig().merge(BASE) == BASE


def test_merge_checks_like_a_new_config() -> None:
    with pytest.raises(ConfigError) as merged:
        BASE.merge({"seed": -1})
    with pytest.raises(ConfigError) as built:
        RunConfig(seed=-1)
    assert str(merged.value) == str(built.value)
    with pytest.raises(ConfigError, match="unknown run setting.*: colour") as unknown:
        BASE.merge({"colour": "red"})
    assert "limit" in (unknown.value.hint or "")


class Captured(Exception):
    def __init__(self, config: RunConfig):
        self.config = config


def test_evaluate_merges_its_keywords_into_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    def capture(config: RunConfig, execution: ExecutionOptions | None = None) -> Any:
        raise Captured(config)

    monkeypatch.setattr(evaluator, "prepare_evaluation", capture)
    with pytest.raises(Captured) as got:
        evaluator.evaluate(config=BASE, limit=None, seed=3, tasks=None)
    assert got.value.config == BASE.replace(seed=3)  # None keeps the config's value


def test_sweep_merges_its_keywords_and_each_checkpoint_into_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ckpt_1_10_x").mkdir()
    seen: list[RunConfig] = []

    def capture(run: run_sweep._SweepRun, todo: list[Any]) -> Any:
        seen.extend([run.config, run.checkpoint_config(todo[0])])
        raise Captured(run.config)

    monkeypatch.setattr(run_sweep._SweepRun, "locally", capture)
    base = BASE.replace(model_args={"lm_path": "none"})
    with pytest.raises(Captured):
        sweep(str(tmp_path / "ckpt_*"), tmp_path / "out", config=base, limit=None, seed=3)
    assert seen[0] == base.replace(seed=3)  # limit=None keeps the config's limit
    assert seen[1] == seen[0].replace(
        model_args={"lm_path": "none", "pretrained": str(tmp_path / "ckpt_1_10_x")},
        output_path=tmp_path / "out" / "ckpt_1_10_x",
        log_samples=True,
    )
    with pytest.raises(ConfigError) as caught:  # and the merge is checked
        sweep(str(tmp_path / "ckpt_*"), tmp_path / "out", config=BASE, seed=-1)
    assert "seed" in str(caught.value)


RAY_BAD = [
    ("local", {"replicas": 2}, ["--replicas", "2"], "--replicas only apply with --executor ray"),
    (
        "local",
        {"replicas": 2, "address": "auto"},
        ["--replicas", "2", "--ray-address", "auto"],
        "--replicas, --ray-address only apply with --executor ray",
    ),
    ("ray", {"replicas": 0}, ["--replicas", "0"], "--replicas must be at least 1"),
    ("ray", {"shard_size": -3}, ["--shard-size", "-3"], "--shard-size must be at least 1"),
    ("ray", {"gpus_per_replica": float("nan")}, ["--gpus-per-replica", "nan"], "finite"),
    ("ray", {"cpus_per_replica": float("inf")}, ["--cpus-per-replica", "inf"], "finite"),
    ("ray", {"gpus_per_replica": -1.0}, ["--gpus-per-replica", "-1"], "0 (CPU replicas) or more"),
    ("ray", {"cpus_per_replica": 0.0}, ["--cpus-per-replica", "0"], "more than 0"),
]


@pytest.mark.parametrize(
    ("executor", "args", "argv", "message"), RAY_BAD, ids=[" ".join(b[2]) for b in RAY_BAD]
)
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_api_and_cli_refuse_a_ray_option_with_the_same_line(
    executor: str,
    args: dict[str, Any],
    argv: list[str],
    message: str,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ConfigError) as api:
        evaluator.evaluate("ngram", executor=executor, executor_args=args, progress=False)
    assert message in str(api.value)
    with pytest.raises(ConfigError) as swept:
        sweep(str(tmp_path / "none_*"), tmp_path / "s", executor=executor, executor_args=args)
    with pytest.raises(ConfigError) as built:
        ExecutionOptions(executor=executor, executor_args=args)
    assert str(swept.value) == str(built.value) == str(api.value)
    extra = ["--checkpoints", str(tmp_path / "none_*"), "--output-path", str(tmp_path / "o")]
    cli = [command, "--model", "ngram", "--executor", executor, *argv]
    assert main(cli + (extra if command == "sweep" else [])) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(api.value) in err, err
    assert not (tmp_path / "o").exists() and not (tmp_path / "s").exists()


def test_the_api_also_refuses_a_count_that_is_not_whole() -> None:
    with pytest.raises(ConfigError, match="--replicas must be a whole number"):
        ExecutionOptions(executor="ray", executor_args={"replicas": 2.5})
    with pytest.raises(ConfigError, match="--gpus-per-replica must be a finite number"):
        ExecutionOptions(executor="ray", executor_args={"gpus_per_replica": "1"})


def test_good_ray_options_and_unset_ones_pass() -> None:
    args = {"replicas": 2, "gpus_per_replica": 0.5, "cpus_per_replica": 2.0, "shard_size": 8}
    assert ExecutionOptions(executor="ray", executor_args=args).executor_args_dict() == args
    assert ExecutionOptions(executor="local", executor_args={"replicas": None}).executor == "local"
    assert ExecutionOptions(executor="ray", executor_args={"gpus_per_replica": 0}).executor_args
