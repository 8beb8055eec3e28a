"""The safety gates open only by their flags, and every boolean model arg is parsed strictly.

``trust_remote_code``, ``allow_pickle`` and ``allow_weight_mismatch`` named in
``--model-args`` (any value, any spelling, any adapter, plugins included, string
or dict) are refused with one line naming the flag to use, before anything is
imported or loaded. Every parameter an adapter declares boolean takes only
true/false, 1/0, yes/no (any case): checked for every built-in adapter, by
reading its real constructor.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, Optional

import pytest

import s2sbench
from s2sbench.cli.main import main
from s2sbench.core.errors import ConfigError
from s2sbench.models import registry
from s2sbench.models.registry import MODEL_REGISTRY, get_model

TESTS = Path(__file__).resolve().parent
GATES = {
    "trust_remote_code": "--trust-remote-code",
    "allow_pickle": "--allow-pickle",
    "allow_weight_mismatch": "--allow-weight-mismatch",
}
WORDS = {"true": True, "TRUE": True, "Yes": True, "1": True}
WORDS.update({"false": False, "No": False, "0": False})


class Recorded(Exception):
    """Raised by a stand-in constructor to hand back the keyword arguments it was given."""

    def __init__(self, kwargs: dict[str, Any]):
        super().__init__("recorded")
        self.kwargs = kwargs


def declared_bools(cls: Any) -> set[str]:
    """The boolean parameters of ``cls``, found independently of the registry's parser."""
    hints = typing.get_type_hints(cls.__init__)
    found = set()
    for name, param in inspect.signature(cls).parameters.items():
        hint = hints.get(name)
        optional_bool = set(typing.get_args(hint)) == {bool, type(None)}
        if hint is bool or optional_bool or (hint is None and isinstance(param.default, bool)):
            found.add(name)
    return found


def required_args(cls: Any) -> dict[str, str]:
    params = inspect.signature(cls).parameters.values()
    return {
        p.name: "x"
        for p in params
        if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def recording(monkeypatch: pytest.MonkeyPatch, cls: Any) -> None:
    """Make the registry build ``cls`` through a stand-in with the same signature."""

    def build(**kwargs: Any) -> None:
        raise Recorded(kwargs)

    build.__signature__ = inspect.signature(cls)  # type: ignore[attr-defined]
    monkeypatch.setattr(registry, "_import_object", lambda spec: build)


ADAPTERS = {name: registry._import_object(spec) for name, spec in MODEL_REGISTRY.items()}
BOOL_ARGS = [(name, key) for name, cls in ADAPTERS.items() for key in sorted(declared_bools(cls))]


def test_every_adapter_declares_the_booleans_the_registry_parses() -> None:
    for name, cls in ADAPTERS.items():
        assert registry.bool_params(cls) == declared_bools(cls), name
    assert ("hf", "reuse_context") in BOOL_ARGS and ("unit-lm", "dedup") in BOOL_ARGS
    assert ("hf", "add_bos_token") in BOOL_ARGS and ("hf-audio", "reuse_context") in BOOL_ARGS


@pytest.mark.parametrize(("name", "key"), [a for a in BOOL_ARGS if a[1] not in GATES])
def test_boolean_model_args_are_parsed_strictly(
    name: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = ADAPTERS[name]
    base = ",".join(f"{k}={v}" for k, v in required_args(cls).items())
    for bad in ("maybe", "2", "on", "truee", "", "1.0"):
        with pytest.raises(ConfigError) as caught:
            get_model(name, f"{base},{key}={bad}")
        message = str(caught.value)
        assert f"'{key}'" in message and f"model '{name}'" in message and "true/false" in message
    recording(monkeypatch, cls)
    for word, value in WORDS.items():
        with pytest.raises(Recorded) as built:
            get_model(name, f"{base},{key}={word}")
        assert built.value.kwargs[key] is value, (name, key, word)
    with pytest.raises(Recorded) as built:  # the Python API: real booleans, and "no" means no
        get_model(name, {**required_args(cls), key: "no"})
    assert built.value.kwargs[key] is False


@pytest.mark.parametrize("name", [*MODEL_REGISTRY, "fake_models:HashModel"])
@pytest.mark.parametrize("gate", list(GATES))
def test_no_adapter_takes_a_gate_from_model_args(name: str, gate: str) -> None:
    spellings = [gate, gate.upper(), gate.replace("_", "-")]
    for key in spellings:
        for value in ("True", "no", "1", "0"):
            with pytest.raises(ConfigError) as caught:
                get_model(name, f"pretrained=x,{key}={value}")
            assert GATES[gate] in str(caught.value) and f"'{key}'" in str(caught.value)
    with pytest.raises(ConfigError, match=GATES[gate]):
        get_model(name, {gate: True})  # the API's dict form too


def test_the_api_gates_take_only_real_booleans(tmp_path: Path) -> None:
    for gate in GATES:
        with pytest.raises(ConfigError, match=f"{gate} must be True or False"):
            s2sbench.evaluate(
                model="fake_models:HashModel",
                tasks=["sample_story_en"],
                conditions=["t2t"],
                limit=2,
                progress=False,
                **{gate: "no"},
            )


class PluginFlags:
    """A plugin declaring booleans three ways; it records what it was built with."""

    name = "flags"

    def __init__(self, a: bool = False, b: Optional[bool] = None, c=True, **_: Any):  # noqa: UP045
        raise Recorded({"a": a, "b": b, "c": c})


def test_plugin_booleans_are_strict_however_declared() -> None:
    plugin = "test_gates:PluginFlags"
    with pytest.raises(Recorded) as built:
        get_model(plugin, "a=yes,b=NO,c=0")
    assert built.value.kwargs == {"a": True, "b": False, "c": False}
    for key in "abc":
        with pytest.raises(ConfigError, match=f"'{key}'"):
            get_model(plugin, f"{key}=nope")


# -- end to end: the remote code never runs ------------------------------------------------------
EVIL = """
from pathlib import Path
Path(__file__).with_name("RAN").write_text("remote code ran")
from transformers import GPT2LMHeadModel
class EvilGPT2(GPT2LMHeadModel):
    pass
"""


@pytest.fixture(scope="module")
def evil_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GPT-2 whose config sends ``AutoModelForCausalLM`` to its own Python file."""
    pytest.importorskip("transformers")  # the hf extra
    from tiny_models import make_gpt2

    directory = make_gpt2(tmp_path_factory.mktemp("evil"))
    config = json.loads((directory / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilGPT2"}
    (directory / "config.json").write_text(json.dumps(config))
    (directory / "modeling_evil.py").write_text(EVIL)
    return directory


@pytest.fixture(scope="module")
def pickle_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GPT-2 whose only weights are a pickle (``pytorch_model.bin``)."""
    pytest.importorskip("transformers")  # the hf extra
    import torch
    from safetensors.torch import load_file
    from tiny_models import make_gpt2

    directory = make_gpt2(tmp_path_factory.mktemp("pickled"))
    weights = directory / "model.safetensors"
    torch.save(load_file(str(weights)), directory / "pytorch_model.bin")
    weights.unlink()
    return directory


def cli(args: list[str], timeout: int = 120) -> subprocess.CompletedProcess[str]:
    env_path = f"{TESTS}:{TESTS.parent}"
    return subprocess.run(
        [sys.executable, "-m", "s2sbench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**__import__("os").environ, "PYTHONPATH": env_path},
    )


@pytest.mark.parametrize(
    ("checkpoint", "extra", "flag"),
    [
        ("evil_checkpoint", "trust_remote_code=True", "--trust-remote-code"),
        ("evil_checkpoint", "trust_remote_code=no", "--trust-remote-code"),
        ("pickle_checkpoint", "allow_pickle=1", "--allow-pickle"),
        ("pickle_checkpoint", "Allow-Pickle=yes", "--allow-pickle"),
    ],
)
def test_model_args_cannot_open_a_gate_end_to_end(
    checkpoint: str, extra: str, flag: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    directory = request.getfixturevalue(checkpoint)
    out = tmp_path / "out"
    args = ["run", "--model", "hf", "--model-args", f"pretrained={directory},{extra}"]
    args += ["--tasks", "sample_story_en", "--conditions", "t2t", "--limit", "2"]
    done = cli([*args, "--output-path", str(out)])
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert flag in done.stderr and f"'{extra.split('=')[0]}'" in done.stderr
    assert not (directory / "RAN").exists()
    assert not out.exists()  # refused before anything was written


def test_without_the_flag_the_checkpoint_code_is_refused_too(
    evil_checkpoint: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["--model", "hf", "--model-args", f"pretrained={evil_checkpoint}"]
    code = main([*args, "--tasks", "sample_story_en", "--conditions", "t2t", "--limit", "2"])
    assert code == 2 and "--trust-remote-code" in capsys.readouterr().err
    assert not (evil_checkpoint / "RAN").exists()
