"""One run configuration: built once from the CLI or the API, frozen, checked with one message.

``RunConfig`` (s2sbench/core/run_config.py) holds what a run evaluates and how it
scores; ``run`` and ``sweep`` define its options once (s2sbench/cli/run_args.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import s2sbench.cli.run_args as run_args
import s2sbench.evaluator as evaluator
from s2sbench.cli.main import build_parser, main
from s2sbench.core.conditions import Condition
from s2sbench.core.errors import ConfigError
from s2sbench.core.run_config import ExecutionOptions, RunConfig
from s2sbench.models.registry import RUNTIME_KEYS

OPTIONS = [
    "--model", "ngram",
    "--model-args", "lm_path=none",
    "--tasks", "sample_story_en, sample_story_zh",
    "--conditions", "T2T,s2t,t2t",
    "--data-dir", "data",
    "--batch-size", "4",
    "--device", "cpu",
    "--limit", "0.5",
    "--template", "reference",
    "--seed", "7",
    "--long-audio", "chunk",
    "--long-context", "truncate",
    "--allow-pickle",
]  # fmt: skip
API = {
    "model": "ngram",
    "model_args": "lm_path=none",
    "tasks": ["sample_story_en", "sample_story_zh"],
    "conditions": [Condition.T2T, "s2t"],
    "data_dir": Path("data"),
    "batch_size": 4,
    "device": "cpu",
    "limit": 0.5,
    "template": "reference",
    "seed": 7,
    "long_audio": "chunk",
    "long_context": "truncate",
    "allow_pickle": True,
}


def subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


class Captured(Exception):
    """Raised by the patched planner: the config ``evaluate`` built, before any work."""

    def __init__(self, config: RunConfig, execution: ExecutionOptions):
        self.config, self.execution = config, execution


def config_of_evaluate(monkeypatch: pytest.MonkeyPatch, *args: Any, **kwargs: Any) -> RunConfig:
    def capture(config: RunConfig, execution: ExecutionOptions | None = None) -> Any:
        raise Captured(config, execution or ExecutionOptions())

    monkeypatch.setattr(evaluator, "prepare_evaluation", capture)
    with pytest.raises(Captured) as got:
        evaluator.evaluate(*args, **kwargs)
    return got.value.config


def test_cli_and_api_build_equal_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    from_cli = run_args.run_config_from_args(subparser("run").parse_args(OPTIONS))
    assert from_cli == RunConfig(**API)
    assert from_cli == config_of_evaluate(monkeypatch, **API, progress=False)
    assert from_cli.conditions == (Condition.T2T, Condition.S2T)  # normalised once
    assert from_cli.tasks == ("sample_story_en", "sample_story_zh")
    # The sweep command builds the same config from the same options.
    sweep_args = ["--checkpoints", "x", "--output-path", "o", *OPTIONS]
    from_sweep = run_args.run_config_from_args(subparser("sweep").parse_args(sweep_args))
    assert from_sweep == from_cli.replace(output_path="o")
    # Defaults agree too (the CLI's "" model args and the API's None are one value).
    assert run_args.run_config_from_args(subparser("run").parse_args([])) == RunConfig()
    assert config_of_evaluate(monkeypatch) == RunConfig()


def test_config_given_to_evaluate_is_used_and_keywords_replace_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = RunConfig(**API)
    assert config_of_evaluate(monkeypatch, config=base) == base
    assert config_of_evaluate(monkeypatch, config=base, seed=9) == base.replace(seed=9)
    assert config_of_evaluate(monkeypatch, "hf", config=base).model == "hf"


def test_evaluate_with_a_config_scores_like_the_keywords(tmp_path: Path) -> None:
    options = {"tasks": "sample_story_en", "conditions": "t2t,none", "limit": 6}
    by_keywords = evaluator.evaluate("ngram", progress=False, output_path=tmp_path / "a", **options)
    config = RunConfig(model="ngram", output_path=tmp_path / "b", **options)  # type: ignore[arg-type]
    by_config = evaluator.evaluate(config=config, progress=False)
    assert by_config.to_json()["results"] == by_keywords.to_json()["results"]
    written = json.loads((tmp_path / "b" / "results.json").read_text(encoding="utf-8"))
    assert written["config"]["limit"] == 6 and written["config"]["executor"] == "local"
    assert written["config"]["conditions"] == ["t2t", "none"]


def test_a_config_cannot_be_mutated() -> None:
    config = RunConfig(model="ngram", model_args={"lm_path": "x"}, limit=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.limit = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.model_args["lm_path"] = "y"  # type: ignore[index]
    changed = config.replace(limit=5)
    assert (config.limit, changed.limit) == (3, 5)
    execution = ExecutionOptions(executor="ray", executor_args={"replicas": 2})
    with pytest.raises(dataclasses.FrozenInstanceError):
        execution.progress = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        execution.executor_args["replicas"] = 3  # type: ignore[index]


def exit_code(argv: list[str]) -> int | str | None:
    """``main``'s exit code, whether argparse refused the value or the config did."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


BAD = [
    ("limit", 0, ["--limit", "0"]),
    ("limit", float("inf"), ["--limit", "inf"]),
    ("seed", -1, ["--seed", "-1"]),
    ("batch_size", 0, ["--batch-size", "0"]),
    ("batch_size", "many", ["--batch-size", "many"]),
    ("batch_size", "auto:0", ["--batch-size", "auto:0"]),
    ("long_audio", "stretch", ["--long-audio", "stretch"]),
    ("long_context", "wrap", ["--long-context", "wrap"]),
    ("tasks", ",", ["--tasks", ","]),
    ("conditions", "t2x", ["--conditions", "t2x"]),
]


@pytest.mark.parametrize(("field", "value", "argv"), BAD, ids=[" ".join(b[2]) for b in BAD])
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_bad_value_fails_the_same_way_from_cli_and_api(
    field: str,
    value: Any,
    argv: list[str],
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ConfigError) as api:
        evaluator.evaluate("ngram", **{field: value})
    with pytest.raises(ConfigError) as built:
        RunConfig(**{field: value})
    assert str(built.value) == str(api.value)
    extra = ["--checkpoints", str(tmp_path / "none_*"), "--output-path", str(tmp_path / "o")]
    assert (
        exit_code([command, "--model", "ngram", *argv, *(extra if command == "sweep" else [])]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(api.value) in err, err


def test_a_gate_takes_only_a_bool_from_the_api() -> None:
    with pytest.raises(ConfigError, match="trust_remote_code must be True or False"):
        RunConfig(trust_remote_code="no")  # type: ignore[arg-type]


def test_run_and_sweep_share_the_option_definitions() -> None:
    def options(parser: argparse.ArgumentParser) -> dict[str, Any]:
        group = next(g for g in parser._action_groups if g.title == run_args.RUN_CONFIG_GROUP)
        return {
            a.option_strings[0]: (a.option_strings, a.type, a.choices, a.default, a.help)
            for a in group._group_actions
            if a.dest != "model"  # the one difference: sweep's default adapter is hf
        }

    run, sweep = options(subparser("run")), options(subparser("sweep"))
    assert run == sweep
    # Every field of RunConfig but the per-command output options is one shared option.
    per_command = {"model", "output_path", "log_samples", "use_cache"}
    fields = {f.name for f in dataclasses.fields(RunConfig)} - per_command
    assert {name[2:].replace("-", "_") for name in run} == fields
    # And the execution options (where scores are computed, progress) are both commands'.
    for flag in ("--no-progress", "--executor", "--replicas", "--shard-size"):
        assert flag in subparser("run")._option_string_actions
        assert flag in subparser("sweep")._option_string_actions


def test_an_option_added_to_the_builder_shows_in_both_parsers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = run_args.add_executor_args

    def with_extra(parser: argparse.ArgumentParser) -> None:
        original(parser)
        parser.add_argument("--an-extra-option", default="here")

    monkeypatch.setattr(run_args, "add_executor_args", with_extra)
    for name in ("run", "sweep"):
        assert "--an-extra-option" in subparser(name)._option_string_actions


def test_runtime_settings_are_the_registry_runtime_keys() -> None:
    """The registry maps exactly these keys to adapter arguments (get_model)."""
    runtime = RunConfig(batch_size=2, allow_pickle=True).runtime()
    assert tuple(runtime) == RUNTIME_KEYS
    assert runtime["batch_size"] == 2 and runtime["allow_pickle"] is True
    assert runtime["trust_remote_code"] is None  # a closed gate: the adapter's default
