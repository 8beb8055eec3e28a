"""The transformers adapter base: one loading path, one scorer and fallback rule, fingerprints
derived from recorded arguments, conditions as data (and the README table made from them)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the hf extra

from tiny_audio_models import make_qwen2_audio  # noqa: E402
from tiny_models import make_gpt2  # noqa: E402
from tiny_unit_models import make_hubert, make_unit_lm  # noqa: E402

from s2sbench.core import hf_loading  # noqa: E402
from s2sbench.core.conditions import Condition  # noqa: E402
from s2sbench.core.errors import ConfigError  # noqa: E402
from s2sbench.core.import_object import import_object  # noqa: E402
from s2sbench.models.batching import CannotReuseCache  # noqa: E402
from s2sbench.models.context_scorer import ContextReuse  # noqa: E402
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402
from s2sbench.models.model_table import model_table  # noqa: E402
from s2sbench.models.registry import MODEL_REGISTRY, get_model  # noqa: E402
from s2sbench.models.text_encoding import EncodedRequest  # noqa: E402
from s2sbench.models.transformers_base import TransformersAdapter  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"
K = 8


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapter_base")
    hubert = make_hubert(root / "hubert")
    width = int(__import__("transformers").AutoConfig.from_pretrained(hubert).hidden_size)
    centroids = root / "km.npy"
    np.save(centroids, np.random.default_rng(0).standard_normal((K, width)).astype("float32"))
    return {
        "gpt2": make_gpt2(root / "gpt2"),
        "audio": make_qwen2_audio(root / "audio"),
        "hubert": hubert,
        "centroids": centroids,
        "units": make_unit_lm(root / "units", K, joint=True),
    }


def build(name: str, dirs: dict[str, Path], **args: Any) -> Any:
    base = {
        "hf": {"pretrained": str(dirs["gpt2"])},
        "hf-audio": {"pretrained": str(dirs["audio"])},
        "unit-lm": {
            "pretrained": str(dirs["units"]),
            "hubert": str(dirs["hubert"]),
            "centroids": str(dirs["centroids"]),
            "layer": 1,
        },
    }[name]
    return get_model(name, {**base, **args})


# 1. one load-options object, one (lazy) loading path


@pytest.mark.parametrize("name", ["hf", "hf-audio", "unit-lm"])
def test_every_adapter_loads_its_weights_on_first_use_through_load_options(
    name: str, dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[Any] = []
    real = hf_loading.LoadOptions.load
    monkeypatch.setattr(
        hf_loading.LoadOptions, "load", lambda self, cls: loads.append(self) or real(self, cls)
    )
    model = build(name, dirs, dtype="float32")
    assert isinstance(model, TransformersAdapter) and not model.weights.loaded
    fingerprint = model.fingerprint()  # no weights needed
    assert loads == [] and fingerprint["dtype"] == "float32"
    assert model.model is model.model and len(loads) == 1  # loaded once, then kept
    assert loads[0].pretrained == model.options.pretrained and loads[0].dtype == "float32"
    assert model.fingerprint() == fingerprint


def test_every_transformers_adapter_and_plugin_shares_the_base() -> None:
    names = ["hf", "hf-audio", "hf-cascade", "unit-lm", "baichuan-audio", "glm4-voice"]
    for name in names + ["kimi-audio"]:
        cls = import_object(MODEL_REGISTRY[name], bad_name=ConfigError(name))
        assert issubclass(cls, TransformersAdapter), name
        assert {"batch_size", "device", "trust_remote_code"} <= cls.non_score_args


# 2. one scorer, one fallback rule


def test_the_fallback_rule_routes_by_window_and_gives_up_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("s2sbench.models.context_scorer.reuse_limit", lambda config: 10)
    reuse = ContextReuse(True, None, "m")
    assert reuse.route([4, 11, 10]) == ([0, 2], [1])
    with caplog.at_level(logging.WARNING):
        reuse.give_up(CannotReuseCache("x"))
        reuse.give_up(CannotReuseCache("y"))
    assert reuse.route([4]) == ([], [0]) and reuse.gave_up
    assert sum("cannot reuse the context cache" in r.message for r in caplog.records) == 1

    def refuse(config: Any) -> int:
        raise CannotReuseCache("chunked")

    monkeypatch.setattr("s2sbench.models.context_scorer.reuse_limit", refuse)
    assert ContextReuse(True, None, "m").route([1, 2]) == ([], [0, 1])
    off = ContextReuse(False, None, "m")
    assert off.route([1, 2]) == ([], [0, 1]) and not off.gave_up  # off by choice, not fallback


def test_unit_lm_scores_through_the_shared_scorer_both_ways_alike(
    dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = build("unit-lm", dirs, dtype="float32")
    full = build("unit-lm", dirs, dtype="float32", reuse_context=False)
    full.weights._model = shared.model
    calls = {"shared": 0, "full": 0}
    scorer = shared.scorer.token_scorer()
    real_shared = scorer.shared_context
    monkeypatch.setattr(
        scorer, "shared_context", lambda b: calls.__setitem__("shared", 1) or real_shared(b)
    )
    rng = np.random.default_rng(1)
    encoded = [
        EncodedRequest(
            tuple(int(t) for t in shared.unit_ids[:3] + rng.choice(shared.unit_ids, 5).tolist()),
            tuple(tuple(int(t) for t in rng.choice(shared.unit_ids, n)) for n in (1, 4, 6)),
        )
        for _ in range(3)
    ]
    got = dict(shared.scorer.score(encoded))
    want = dict(full.scorer.score(encoded))
    assert calls["shared"] == 1
    for i in range(3):
        assert got[i] == pytest.approx(want[i], abs=1e-5)
        assert all(v < 0 for v in got[i])


# 3. fingerprints from recorded constructor arguments


class Tempered(HFCausalLM):
    """A new family with one score-changing and one declared non-score argument."""

    name = "hf-tempered"
    non_score_args = HFCausalLM.non_score_args | {"report_every"}

    def __init__(
        self, pretrained: str, temperature: float = 1.0, report_every: int = 10, **kw: Any
    ):
        super().__init__(pretrained, **kw)
        self.temperature = temperature


def test_a_new_score_changing_argument_is_fingerprinted_without_fingerprint_code(
    dirs: dict[str, Path],
) -> None:
    path = str(dirs["gpt2"])
    plain = Tempered(path, dtype="float32").fingerprint()
    assert Tempered(path, dtype="float32", report_every=1).fingerprint() == plain
    assert Tempered(path, dtype="float32", batch_size=3, padding_side="left").fingerprint() == plain
    hot = Tempered(path, dtype="float32", temperature=2.0).fingerprint()
    assert hot != plain and hot["temperature"] == 2.0
    assert {k: v for k, v in hot.items() if k != "temperature"} == plain
    # an argument the subclass passes on to its base (through **kw) is recorded there
    eager = Tempered(path, dtype="float32", attn_implementation="eager").fingerprint()
    assert eager == {**plain, "attn_implementation": "eager"}


def test_hf_and_hf_audio_fingerprint_attn_implementation_alike(dirs: dict[str, Path]) -> None:
    for name in ("hf", "hf-audio"):
        default = build(name, dirs, dtype="float32").fingerprint()
        eager = build(name, dirs, dtype="float32", attn_implementation="eager").fingerprint()
        assert "attn_implementation" not in default, name
        assert eager == {**default, "attn_implementation": "eager"}, name


def test_a_default_hf_fingerprint_keeps_its_keys(dirs: dict[str, Path]) -> None:
    keys = {"adapter", "pretrained", "revision", "dtype", "max_length", "add_bos_token"}
    keys |= {"context_prefix", "weights_sha256", "config_sha256", "weight_files"}
    assert set(build("hf", dirs, dtype="float32").fingerprint()) == keys


# 4. conditions as data, README generated from them


@pytest.mark.parametrize("name", ["hf", "hf-audio", "unit-lm"])
def test_declared_conditions_are_the_ones_scored(name: str, dirs: dict[str, Path]) -> None:
    model = build(name, dirs)
    for condition in Condition:
        supported = model.unsupported_reason(condition, "en") is None
        assert supported == (condition.value in model.conditions), (name, condition)


def test_readme_model_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"\| adapter \| what it is \| conditions \|\n(?:\|.*\|\n)+", text)
    assert found is not None
    assert found.group(0).strip() == model_table()
