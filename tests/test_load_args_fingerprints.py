"""Fingerprints (and so the store's keys) as before the load arguments moved to the base.

Each expected dict is built here from the checkpoint itself (its files' hashes, config,
tokenizer, processor), per the fingerprint rule: adapter name, the checkpoint's facts,
and every argument that may change a score and is not at its default. The default run's
model id (its store key) is checked the same way on the real bundled weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")  # the hf extra

from real_gemma import GEMMA, needs_gemma  # noqa: E402
from test_load_args import tiny_checkpoints  # noqa: E402

from s2sbench.core.checkpoint_files import weights_fingerprint  # noqa: E402
from s2sbench.models.registry import get_model  # noqa: E402


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_checkpoints(tmp_path_factory.mktemp("load_args_fingerprints"))


def leading_special_tokens(path: str | Path) -> list[int]:
    """What the checkpoint's tokenizer puts before any text (its ``<bos>``, or nothing)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    ids, bare = tok("a b")["input_ids"], tok("a b", add_special_tokens=False)["input_ids"]
    assert ids[len(ids) - len(bare) :] == bare
    return ids[: len(ids) - len(bare)]


def config_of(path: Path) -> dict[str, Any]:
    return json.loads((path / "config.json").read_text(encoding="utf-8"))


def expected_hf(path: Path, dtype: str = "float32") -> dict[str, Any]:
    return {
        "adapter": "hf",
        "pretrained": str(path.resolve()),
        **weights_fingerprint(path),
        "revision": None,
        "dtype": dtype,
        "max_length": config_of(path)["n_positions"],
        "add_bos_token": None,
        "context_prefix": leading_special_tokens(path),
    }


def expected_hf_audio(path: Path) -> dict[str, Any]:
    from transformers import AutoProcessor

    proc = AutoProcessor.from_pretrained(path)  # Qwen2-Audio's span: <|audio_bos|>...
    return {
        "adapter": "hf-audio",
        "pretrained": str(path),
        "revision": None,
        **weights_fingerprint(path),
        "dtype": "float32",
        "model_type": config_of(path)["model_type"],
        "placeholder": f"{proc.audio_bos_token}{proc.audio_token}{proc.audio_eos_token}",
    }


def expected_unit_lm(dirs: dict[str, Path], dedup: bool = True) -> dict[str, Any]:
    from s2sbench.models.speech_units import SpeechUnitEncoder

    units = SpeechUnitEncoder(str(dirs["hubert"]), str(dirs["centroids"]), 1, dedup=dedup)
    return {
        "adapter": "unit-lm",
        "pretrained": str(dirs["units"]),
        "revision": None,
        **weights_fingerprint(dirs["units"]),
        "dtype": "float32",
        "unit_token": "[Hu{}]",
        "markers": {"speech": "[SPEECH]", "text": "[TEXT]"},
        "context_prefix": leading_special_tokens(dirs["units"]),
        "units": units.fingerprint(),
    }


NO_SCORE = {"device": "cpu", "reuse_context": False}  # and batch_size, gates: runtime
RUNTIME = {"batch_size": 3, "trust_remote_code": True, "allow_pickle": True}
CASES = [  # (adapter, model args, runtime, what the fingerprint gains)
    ("hf", {}, {}, {}),
    ("hf", {"attn_implementation": "eager"}, {}, {"attn_implementation": "eager"}),
    ("hf", {"attn_implementation": "sdpa"}, {}, {"attn_implementation": "sdpa"}),
    ("hf", {**NO_SCORE, "padding_side": "left", "max_batch_size": 4}, RUNTIME, {}),
    ("hf", {"dtype": "bfloat16"}, {}, {"dtype": "bfloat16"}),
    ("hf", {"max_length": 64}, {}, {"max_length": 64}),
    ("hf", {}, {"long_context": "truncate"}, {"long_context": "truncate"}),
    ("hf-audio", {}, {}, {}),
    ("hf-audio", {"attn_implementation": "eager"}, {}, {"attn_implementation": "eager"}),
    ("hf-audio", {**NO_SCORE, "padding_side": "right"}, RUNTIME, {}),
    ("hf-audio", {}, {"long_audio": "chunk"}, {"long_audio": "chunk"}),
    ("hf-audio", {}, {"long_context": "truncate"}, {"long_context": "truncate"}),
    ("unit-lm", {}, {}, {}),
    ("unit-lm", NO_SCORE, {**RUNTIME, "long_audio": "chunk"}, {}),
    ("unit-lm", {"attn_implementation": "eager"}, {}, {"attn_implementation": "eager"}),
]


@pytest.mark.parametrize(("name", "args", "runtime", "gains"), CASES)
def test_fingerprints_are_the_documented_ones(
    name: str, args: dict, runtime: dict, gains: dict, dirs: dict[str, Path]
) -> None:
    base = {
        "hf": ({"pretrained": str(dirs["gpt2"])}, lambda: expected_hf(dirs["gpt2"])),
        "hf-audio": ({"pretrained": str(dirs["audio"])}, lambda: expected_hf_audio(dirs["audio"])),
        "unit-lm": (
            {"pretrained": str(dirs["units"]), "hubert": str(dirs["hubert"]), "layer": 1}
            | {"centroids": str(dirs["centroids"])},
            lambda: expected_unit_lm(dirs),
        ),
    }
    model_args, expected = base[name]
    model = get_model(name, {**model_args, "dtype": "float32", **args}, **runtime)
    assert model.fingerprint() == {**expected(), **gains}


def test_unit_lm_dedup_is_named_by_the_encoder(dirs: dict[str, Path]) -> None:
    args = {"pretrained": str(dirs["units"]), "hubert": str(dirs["hubert"]), "layer": 1}
    args |= {"centroids": str(dirs["centroids"]), "dtype": "float32", "dedup": False}
    assert get_model("unit-lm", args).fingerprint() == expected_unit_lm(dirs, dedup=False)


def expected_gemma(dtype: str | None = None) -> dict[str, Any]:
    from s2sbench.models.bundled import BUNDLED, bundled_gguf
    from s2sbench.models.gguf import converted_checkpoint

    directory, sha = converted_checkpoint(bundled_gguf("gemma3-270m"))
    config = config_of(directory)
    assert sha == BUNDLED["gemma3-270m"].sha256
    return {
        "adapter": "hf",
        "pretrained": GEMMA,
        "gguf_sha256": sha,
        **weights_fingerprint(directory),
        "revision": None,
        "dtype": dtype or config["dtype"],
        "max_length": config["max_position_embeddings"],
        "add_bos_token": None,
        "context_prefix": [config["bos_token_id"]],
    }


@needs_gemma
def test_the_bundled_gemma_and_the_default_run_keep_their_store_keys() -> None:
    from s2sbench.core.run_config import RunConfig
    from s2sbench.models.asr_choice import make_recogniser
    from s2sbench.models.default_model import DEFAULT_MODEL, DEFAULT_MODEL_ARGS
    from s2sbench.scores.store import model_id

    assert get_model("hf", {"pretrained": GEMMA}).fingerprint() == expected_gemma()
    eager = get_model("hf", {"pretrained": GEMMA, "attn_implementation": "eager"}, device="cpu")
    assert eager.fingerprint() == {**expected_gemma(), "attn_implementation": "eager"}
    bundled = "asr=bundled:whisper-base,lm=bundled:gemma3-270m"
    assert DEFAULT_MODEL_ARGS.split(",") == [*bundled.split(","), "asr_encoder_window=fit"]
    default = get_model(DEFAULT_MODEL, DEFAULT_MODEL_ARGS, **RunConfig().runtime())
    asr = make_recogniser("bundled:whisper-base", encoder_window="fit")
    expected = {
        "adapter": "hf-cascade",
        "asr": asr.fingerprint(),
        "lm": expected_gemma(),
        "long_audio": "error",
    }
    assert default.fingerprint() == expected
    assert model_id(default.fingerprint()) == model_id(expected)
