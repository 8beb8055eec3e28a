"""The load arguments are declared once, by ``LoadOptions``' fields, for every family.

A family's ``__init__`` names only its own parameters; the base adds every load argument
to its signature (so the registry's key check, strict booleans and ``**runtime`` see
them), records it (so the fingerprint does) and builds ``self.options`` from it. That the
fingerprints and the default run's store key did not move: test_load_args_fingerprints.py.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the hf extra

from tiny_audio_models import make_qwen2_audio, make_whisper  # noqa: E402
from tiny_models import make_gpt2  # noqa: E402
from tiny_unit_models import make_hubert, make_unit_lm  # noqa: E402

import s2sbench  # noqa: E402
from s2sbench.core.context_request import ContextRequest  # noqa: E402
from s2sbench.core.errors import ConfigError  # noqa: E402
from s2sbench.core.hf_loading import LOAD_ARGS, LoadOptions  # noqa: E402
from s2sbench.core.scoring import ContinuationScore  # noqa: E402
from s2sbench.models import registry  # noqa: E402
from s2sbench.models.batching import AutoBatcher  # noqa: E402
from s2sbench.models.context_scorer import ContextReuse, ContextScorer  # noqa: E402
from s2sbench.models.registry import MODEL_REGISTRY, RUNTIME_KEYS, get_model  # noqa: E402
from s2sbench.models.text_encoding import context_prefix, encode_request  # noqa: E402
from s2sbench.models.transformers_base import TransformersAdapter  # noqa: E402

K = 8
SET_BY_ADAPTER = {"pretrained", "label"}
# a value other than the default for every load argument
CHANGED = {"revision": "v2", "dtype": "bfloat16", "device": "cpu", "attn_implementation": "eager"}
CHANGED |= {"trust_remote_code": True, "allow_pickle": True, "allow_weight_mismatch": True}


class Echo(TransformersAdapter):
    """A family with one parameter of its own; it records what its ``__init__`` is given."""

    name = "echo"

    def __init__(self, pretrained: str, own: int = 1, flag: bool = False, **rest: Any):
        self.own, self.flag, self.rest = own, flag, rest
        self.load_options(pretrained)

    def unsupported_reason(self, condition: Any, lang: str) -> str | None:
        return "builds its options only"

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[Any]:
        return iter(())


class FixesTaken(Echo):
    """A family that would override a load value it also takes (refused)."""

    def __init__(self, pretrained: str, **rest: Any):
        self.load_options(pretrained, dtype="float16")


class FixedEager(Echo):
    """A family that fixes one load value by passing it on to its base."""

    def __init__(self, pretrained: str, **rest: Any):
        super().__init__(pretrained, attn_implementation="eager", **rest)


# the new family of the end-to-end test: this class plus one registry line
class TinyLM(TransformersAdapter):
    """Any causal LM, text contexts; the load arguments come from the base."""

    name, summary, conditions = "tiny-lm", "a test family", ("t2t", "none")

    def __init__(self, pretrained: str, **_: Any):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        config = self.load_options(pretrained).config()
        self.weights = self.options.lazy(AutoModelForCausalLM)
        self.tok = tok = self.options.preprocessor(AutoTokenizer)
        self.start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        reuse = ContextReuse(True, config, pretrained)
        self.scorer = ContextScorer(lambda: self.model, 0, "right", AutoBatcher(None), reuse)

    def unsupported_reason(self, condition: Any, lang: str) -> str | None:
        return None if condition.value in self.conditions else "text only"

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[Any]:
        prefix = context_prefix(self.tok, None)
        coded = [
            encode_request(self.tok, r, prefix=prefix, start_id=self.start, max_length=None)
            for r in requests
        ]
        for i, sums in self.scorer.score(coded):
            yield i, [ContinuationScore(s, len(c)) for s, c in zip(sums, coded[i].continuations)]


def tiny_checkpoints(root: Path) -> dict[str, Path]:
    """Tiny random checkpoints of every kind these tests load (also for the fingerprint file)."""
    hubert = make_hubert(root / "hubert")
    width = json.loads((hubert / "config.json").read_text())["hidden_size"]
    centroids = root / "km.npy"
    np.save(centroids, np.random.default_rng(0).standard_normal((K, width)).astype("float32"))
    return {
        "gpt2": make_gpt2(root / "gpt2"),
        "whisper": make_whisper(root / "whisper"),
        "audio": make_qwen2_audio(root / "audio"),
        "hubert": hubert,
        "centroids": centroids,
        "units": make_unit_lm(root / "units", K, joint=True),
    }


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_checkpoints(tmp_path_factory.mktemp("load_args"))


# 1. declared once: a family names only its own parameters


def test_every_load_options_field_is_a_keyword_of_every_family() -> None:
    fields = {f.name for f in dataclasses.fields(LoadOptions)}
    assert set(LOAD_ARGS) == fields - SET_BY_ADAPTER == set(CHANGED)
    params = inspect.signature(Echo).parameters
    assert list(params)[:3] == ["pretrained", "own", "flag"]
    for name in LOAD_ARGS:
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params[name].default == getattr(LoadOptions("x"), name), name


def test_a_family_with_only_its_own_parameters_builds_the_load_options_asked_for() -> None:
    plain = Echo("ckpt")
    assert plain.options == LoadOptions("ckpt") and plain.rest == {}
    for name, value in CHANGED.items():
        echo = Echo("ckpt", **{name: value})
        assert echo.options == dataclasses.replace(LoadOptions("ckpt"), **{name: value}), name
        assert echo.rest == {} and echo.arguments[name] == value  # recorded, not handed on
    every = Echo("ckpt", own=3, **CHANGED)
    assert every.options == LoadOptions("ckpt", **CHANGED) and every.own == 3


def test_a_value_a_family_fixes_is_loaded_and_fingerprinted() -> None:
    fixed = FixedEager("ckpt")
    assert fixed.options.attn_implementation == "eager"
    assert fixed.argument_fingerprint() == {"attn_implementation": "eager"}
    assert Echo("ckpt").argument_fingerprint() == {}
    with pytest.raises(TypeError, match="fixes \\['dtype'\\]"):
        FixesTaken("ckpt")


# 2. the registry knows every load key


@pytest.fixture
def echo_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MODEL_REGISTRY, "echo", f"{__name__}:Echo")


def test_the_registry_refuses_a_typo_and_lists_the_load_keys(echo_registered: None) -> None:
    names = [n for n in MODEL_REGISTRY if n not in ("ngram", "sphinx")]
    for name in names:
        cls = registry._import_object(MODEL_REGISTRY[name])
        listed = {k for k in cls.load_args if k not in RUNTIME_KEYS}
        assert "dtype" in listed, name
        with pytest.raises(ConfigError) as caught:
            get_model(name, "dtpye=float32")
        hint = str(caught.value).split("known keys: ")[1]
        assert "'dtpye'" in str(caught.value) and listed <= set(hint.split(", ")), name


def test_load_keys_reach_the_family_from_model_args_and_runtime(echo_registered: None) -> None:
    model = get_model("echo", "pretrained=p,dtype=float16,revision=main,attn_implementation=sdpa")
    want = LoadOptions("p", revision="main", dtype="float16", attn_implementation="sdpa")
    assert model.options == want
    runtime = {"device": "cpu", "batch_size": 2, "long_audio": "chunk", "allow_pickle": True}
    model = get_model("echo", {"pretrained": "p"}, **runtime, trust_remote_code=True)
    assert model.options == LoadOptions(
        "p", device="cpu", allow_pickle=True, trust_remote_code=True
    )
    assert model.rest == {"batch_size": 2, "long_audio": "chunk"}  # other runtime keys as before


def test_boolean_load_keys_are_parsed_strictly(
    echo_registered: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    bools = {name for name, value in CHANGED.items() if isinstance(value, bool)}
    assert bools <= registry.bool_params(Echo)
    for name in bools:  # the gates: never from model args ...
        with pytest.raises(ConfigError, match=f"--{name.replace('_', '-')}"):
            get_model("echo", f"pretrained=p,{name}=yes")
    monkeypatch.setattr(registry, "GATE_FLAGS", {})  # ... so lift the gate rule to see the parse
    for name in bools:
        with pytest.raises(ConfigError, match=f"takes true or false for '{name}'"):
            get_model("echo", f"pretrained=p,{name}=maybe")
        for word, value in (("No", False), ("yes", True), ("0", False), ("TRUE", True)):
            assert getattr(get_model("echo", f"pretrained=p,{name}={word}").options, name) is value


# 3. the load arguments reach the weights


@pytest.mark.parametrize("name", ["hf", "hf-audio", "unit-lm"])
def test_the_load_arguments_reach_the_weights(name: str, dirs: dict[str, Path]) -> None:
    args = {"hf": {"pretrained": str(dirs["gpt2"])}, "hf-audio": {"pretrained": str(dirs["audio"])}}
    args["unit-lm"] = {"pretrained": str(dirs["units"]), "hubert": str(dirs["hubert"])}
    args["unit-lm"] |= {"centroids": str(dirs["centroids"]), "layer": 1}
    load = {"dtype": "bfloat16", "attn_implementation": "eager"}
    model = get_model(name, {**args[name], **load}, device="cpu").model
    assert model.dtype == torch.bfloat16 and model.config._attn_implementation == "eager"


def test_the_cascade_hands_its_load_arguments_to_both_models(dirs: dict[str, Path]) -> None:
    cascade = get_model(
        "hf-cascade",
        {"asr": str(dirs["whisper"]), "lm": str(dirs["gpt2"]), "dtype": "bfloat16"},
        device="cpu",
        allow_pickle=True,
    )
    assert cascade.recogniser.model.dtype == torch.bfloat16 == cascade.lm.model.dtype
    assert cascade.lm.options == LoadOptions(
        str(dirs["gpt2"]), dtype="bfloat16", device="cpu", allow_pickle=True
    )
    fingerprint = cascade.fingerprint()
    assert fingerprint["asr"]["dtype"] == fingerprint["lm"]["dtype"] == "bfloat16"
    for key in ("revision", "attn_implementation"):  # two checkpoints: asr_/lm_revision
        with pytest.raises(ConfigError, match=f"unknown --model-args key '{key}'"):
            get_model("hf-cascade", {"asr": "a", "lm": "b", key: "x"})


# 4. a new family: one small class (TinyLM above) and one registry line


def test_a_new_family_runs_end_to_end(
    dirs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(MODEL_REGISTRY, "tiny-lm", f"{__name__}:TinyLM")
    path = str(dirs["gpt2"])
    loaded = get_model("tiny-lm", f"pretrained={path},dtype=bfloat16,attn_implementation=eager")
    assert loaded.model.dtype == torch.bfloat16
    assert loaded.model.config._attn_implementation == "eager"
    assert loaded.fingerprint()["attn_implementation"] == "eager"
    with pytest.raises(ConfigError, match="known keys: attn_implementation, dtype, pretrained"):
        get_model("tiny-lm", f"pretrained={path},dtyp=float32")
    run = {"tasks": ["sample_story_en"], "conditions": ["t2t"], "limit": 3, "progress": False}
    args = {"pretrained": path, "dtype": "float32"}
    new = s2sbench.evaluate(model="tiny-lm", model_args=args, output_path=tmp_path / "a", **run)
    hf = s2sbench.evaluate(model="hf", model_args=args, output_path=tmp_path / "b", **run)
    got, want = new.records("sample_story_en", "t2t"), hf.records("sample_story_en", "t2t")
    assert len(got) == len(want) == 3
    for a, b in zip(got, want):
        assert [s.n_tokens for s in a.scores] == [s.n_tokens for s in b.scores]
        assert [s.logprob_sum for s in a.scores] == pytest.approx(
            [s.logprob_sum for s in b.scores], abs=1e-5
        )
