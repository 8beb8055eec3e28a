"""Granite Speech beyond the zoo's three checks: its audio-only LoRA adapter and its needs.

The zoo test (tests/test_model_zoo.py) checks S2T with the adapter on. Here:
T2T reads the base LM with the adapter off (as the model's own ``generate()``
does for text-only prompts), one call mixing both conditions gives the scores
of two separate calls (batches never mix them), a config announcing an adapter
that is not there is refused, and without torchaudio the processor fails in one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")

import tiny_granite_models as granite  # noqa: E402
from tiny_zoo_models import named_tokenizer  # noqa: E402
from zoo_requests import s2t_requests, scores_of, t2t_requests  # noqa: E402

from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.models.hf_audio import HFAudioLM  # noqa: E402

TOL = 1e-5


@pytest.fixture(scope="module")
def lora_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return granite.make_granite_speech(tmp_path_factory.mktemp("granite_lora"), lora=True)
    except ImportError as exc:
        pytest.skip(f"granite_speech: cannot build offline here: {str(exc).splitlines()[0]}")


def text_forward(model: HFAudioLM, request: ContextRequest, adapter: bool) -> list[float]:
    """Plain forward of tok(context + continuation), summed over the tokens after tok(context)
    (the context's trailing space belongs to the continuation, as for every text LM here)."""
    import torch

    lm, tok = model.model, model.tokenizer
    granite.switch_adapter(lm, adapter)
    n_context = len(tok(request.text_context.rstrip())["input_ids"])
    sums = []
    for cont in request.continuations:
        ids = torch.tensor([tok(request.text_context + cont)["input_ids"]])
        with torch.no_grad():
            logprobs = torch.log_softmax(lm(input_ids=ids).logits[0, :-1].float(), dim=-1)
        targets = ids[0, n_context:]
        sums.append(float(logprobs[n_context - 1 :].gather(-1, targets[:, None]).sum()))
    return sums


def test_text_condition_reads_the_base_lm_with_the_adapter_off(lora_dir) -> None:
    model = HFAudioLM(pretrained=str(lora_dir), dtype="float32", batch_size=4)
    requests = t2t_requests()
    scored = scores_of(model, requests)
    for request, scores in zip(requests, scored):
        off, on = text_forward(model, request, False), text_forward(model, request, True)
        for score, base, adapted in zip(scores, off, on):
            assert score.logprob_sum == pytest.approx(base, abs=TOL)
            assert abs(score.logprob_sum - adapted) > 1e-3  # the adapter matters on this model


def test_one_call_mixing_conditions_equals_two_calls(lora_dir, zoo_wavs) -> None:
    heard, read = s2t_requests(zoo_wavs[:4]), t2t_requests()
    mixed = HFAudioLM(pretrained=str(lora_dir), dtype="float32", batch_size=64)
    apart = HFAudioLM(pretrained=str(lora_dir), dtype="float32", batch_size=64)
    together = scores_of(mixed, read + heard)
    separate = scores_of(apart, read) + scores_of(apart, heard)
    for a, b in zip(together, separate):
        assert [s.n_tokens for s in a] == [s.n_tokens for s in b]
        assert all(abs(x.logprob_sum - y.logprob_sum) <= TOL for x, y in zip(a, b))


def test_announced_adapter_that_is_missing_is_refused(lora_dir, tmp_path) -> None:
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        assert (lora_dir / name).is_file()
    bare = tmp_path / "bare"
    bare.mkdir()
    for file in lora_dir.iterdir():
        if not file.name.startswith("adapter_"):
            (bare / file.name).write_bytes(file.read_bytes())
    assert json.loads((bare / "config.json").read_text())["has_lora_adapter"] is True
    model = HFAudioLM(pretrained=str(bare), dtype="float32")
    with pytest.raises(ModelError, match="LoRA adapter applies to audio input"):
        list(model.score(t2t_requests()[:1]))


def test_without_torchaudio_the_processor_fails_in_one_line(tmp_path) -> None:
    """Where torchaudio cannot load (the main CI venv), building the processor is a clear
    ModelError; the config, tokenizer and processor files are written as the builder does."""
    try:
        import torchaudio  # noqa: F401

        pytest.skip("torchaudio loads here; the stage 2 venv checks the working path")
    except Exception:  # ImportError, or OSError when torchaudio does not match torch
        pass
    tokenizer = named_tokenizer(tmp_path, granite.GRANITE_TOKENS)
    granite.granite_speech(tokenizer, has_lora_adapter=False).save_pretrained(tmp_path)
    (tmp_path / "processor_config.json").write_text(
        json.dumps(
            {
                "audio_processor": {"feature_extractor_type": "GraniteSpeechFeatureExtractor"},
                "audio_token": "<|audio|>",
                "processor_class": "GraniteSpeechProcessor",
            }
        )
    )
    with pytest.raises(ModelError) as error:
        HFAudioLM(pretrained=str(tmp_path), dtype="float32")
    assert "\n" not in str(error.value)
    assert "torchaudio" in str(error.value)
