"""hf-audio across the native transformers families: the same three checks for each.

For every family whose tiny random instance *and processor* build offline here:
(a) the adapter's S2T scores equal a hand-built forward of the processor's
output with an explicit continuation label mask, (b) batch size 1 and 4 give
the same scores, (c) changing only the audio changes every score. A family
whose processor needs a package this machine cannot load is skipped with
the builder's reason (see docs/models.md for the list and blockers).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("transformers")

import tiny_granite_models as granite  # noqa: E402
import tiny_omni_models as omni  # noqa: E402
import tiny_zoo_models as zoo  # noqa: E402
from tiny_audio_models import make_qwen2_audio  # noqa: E402
from zoo_requests import masked_logprob_sum, s2t_requests, scores_of, t2t_requests  # noqa: E402

import s2sbench.data.audio as audio_module  # noqa: E402
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.models.audio_families.inputs import RopeState  # noqa: E402
from s2sbench.models.audio_specs import AUDIO_LM_SPECS  # noqa: E402
from s2sbench.models.hf_audio import HFAudioLM  # noqa: E402

TOL = 1e-5
BUILDERS: dict[str, Callable[[Path], Path]] = {
    "qwen2_audio": make_qwen2_audio,
    "audioflamingo3": zoo.make_audio_flamingo3,
    "qwen2_5_omni_thinker": omni.make_qwen2_5_omni_thinker,
    "qwen3_omni_moe_thinker": omni.make_qwen3_omni_moe_thinker,
    "phi4_multimodal": zoo.make_phi4_multimodal,
    "gemma3n": zoo.make_gemma3n,
    "voxtral": zoo.make_voxtral,
    "granite_speech": lambda directory: granite.make_granite_speech(directory, lora=True),
}


@pytest.fixture(scope="session", params=sorted(BUILDERS))
def family(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """(family name, saved directory, adapter at batch size 4) -- built once per session."""
    name = request.param
    try:
        directory = BUILDERS[name](tmp_path_factory.mktemp(name))
    except ImportError as exc:
        pytest.skip(f"{name}: cannot build offline here: {str(exc).splitlines()[0]}")
    return name, directory, HFAudioLM(pretrained=str(directory), dtype="float32", batch_size=4)


def hand_built(model: HFAudioLM, request: ContextRequest) -> list[tuple[float, int]]:
    """The family's processor on the whole text + audio, one plain forward, labels masked
    to the tokens after the processor-expanded context."""
    import torch

    spec = model.spec
    if spec.encode_s2t is not None:
        return hand_built_voxtral(model, request)
    samples = audio_module.read_audio(request.context_audio, spec.sampling_rate)
    context = request.prefix + spec.placeholder

    def encode(text: str) -> dict:
        return model.processor(
            text=[text],
            **{spec.audio_kwarg: [samples]},
            sampling_rate=spec.sampling_rate,
            return_tensors="pt",
        )

    n_context = encode(context)["input_ids"].shape[1]
    if getattr(model.model, "_hf_peft_config_loaded", False):
        granite.switch_adapter(model.model, True)  # as Granite's generate() does given audio
    out = []
    for cont in request.continuations:
        inputs = {k: v for k, v in encode(context + cont).items() if k != "num_audio_tokens"}
        labels = inputs["input_ids"].clone()
        labels[:, :n_context] = -100
        RopeState(model.model).reset()  # no multimodal rotary state left from earlier calls
        with torch.no_grad():
            logits = model.model(**inputs).logits
        out.append(masked_logprob_sum(logits, labels))
    return out


def hand_built_voxtral(model: HFAudioLM, request: ContextRequest) -> list[tuple[float, int]]:
    """Voxtral's processor takes no audio with text, so the reference is laid out by hand as
    mistral-common's chat template lays out one audio: ``[BEGIN_AUDIO]`` + one ``[AUDIO]`` per
    1280 samples of the audio padded to whole 30 s windows (12.5 tokens/s); the features are
    the processor's own (its chat-template path)."""
    import math

    import torch

    tok, processor = model.tokenizer, model.processor
    samples = audio_module.read_audio(request.context_audio, 16000)
    window = 30 * 16000
    n_audio = math.ceil(math.ceil(len(samples) / window) * window / 1280)
    features = processor._retrieve_input_features(
        [samples],
        3000,
        sampling_rate=16000,
        padding=True,
        pad_to_multiple_of=window,
        return_tensors="pt",
    )
    begin, audio = tok.convert_tokens_to_ids(["[BEGIN_AUDIO]", "[AUDIO]"])
    context = tok(request.prefix)["input_ids"] + [begin] + [audio] * n_audio
    out = []
    for cont in request.continuations:
        ids = torch.tensor([context + tok(cont, add_special_tokens=False)["input_ids"]])
        labels = ids.clone()
        labels[:, : len(context)] = -100
        with torch.no_grad():
            logits = model.model(input_ids=ids, input_features=features).logits
        out.append(masked_logprob_sum(logits, labels))
    return out


def test_every_family_has_a_spec_and_a_builder() -> None:
    assert set(BUILDERS) <= set(AUDIO_LM_SPECS)
    assert {"qwen2_audio", "audioflamingo3", "qwen3_omni_moe_thinker"} <= set(AUDIO_LM_SPECS)


def test_a_scores_equal_hand_built_forward_with_label_mask(family, zoo_wavs) -> None:
    name, _, model = family
    requests = s2t_requests(zoo_wavs[:3])
    for request, scores in zip(requests, scores_of(model, requests)):
        for score, (logprob, n_tokens) in zip(scores, hand_built(model, request)):
            assert score.n_tokens == n_tokens > 0, name
            assert score.logprob_sum == pytest.approx(logprob, abs=TOL), name


def test_b_batch_size_and_padding_side_do_not_change_scores(family, zoo_wavs) -> None:
    """Batch 4 (left padding, the default) = batch 4 right-padded = batch 1, for S2T and T2T
    requests scored in one call (audios of four lengths, texts of four lengths)."""
    name, directory, model = family
    single = HFAudioLM(pretrained=str(directory), dtype="float32", batch_size=1)
    right = HFAudioLM(
        pretrained=str(directory), dtype="float32", batch_size=4, padding_side="right"
    )
    assert model.padding_side == "left"
    requests = s2t_requests(zoo_wavs[:4]) + t2t_requests()
    reference = scores_of(single, requests)
    for other in (model, right):
        for a, b in zip(scores_of(other, requests), reference):
            assert [s.n_tokens for s in a] == [s.n_tokens for s in b], name
            assert all(abs(x.logprob_sum - y.logprob_sum) <= TOL for x, y in zip(a, b)), name


def test_c_changing_only_the_audio_changes_every_score(family, zoo_wavs) -> None:
    name, _, model = family
    first = scores_of(model, s2t_requests([zoo_wavs[0]]))[0]
    second = scores_of(model, s2t_requests([zoo_wavs[4]]))[0]
    assert [s.n_tokens for s in first] == [s.n_tokens for s in second]
    assert all(abs(x.logprob_sum - y.logprob_sum) > 1e-4 for x, y in zip(first, second)), name


def test_speech_continuations_refused_and_fingerprint_names_family(family) -> None:
    name, _, model = family
    assert "text continuations only" in model.unsupported_reason(Condition.S2S, "en")
    assert model.unsupported_reason(Condition.T2S, "en")
    assert model.fingerprint()["model_type"] == name


def test_multimodal_rotary_state_is_found_and_cleared(tmp_path) -> None:
    """The Omni thinker keeps rope_deltas after a forward; RopeState finds and clears it."""
    import torch

    from s2sbench.models.audio_families.inputs import RopeState

    model = omni.qwen2_5_omni_thinker(zoo.named_tokenizer(tmp_path, omni.OMNI_TOKENS)).eval()
    state = RopeState(model)
    assert state.holders
    with torch.no_grad():
        model(input_ids=torch.tensor([[5, 6, 7, 8]]), attention_mask=torch.ones(1, 4, dtype=int))
    assert any(holder.rope_deltas is not None for holder in state.holders)
    state.reset()
    assert all(holder.rope_deltas is None for holder in state.holders)
    assert AUDIO_LM_SPECS["qwen2_5_omni_thinker"].mrope  # so hf-audio never builds positions
    assert AUDIO_LM_SPECS["qwen3_omni_moe_thinker"].mrope
    assert not AUDIO_LM_SPECS["audioflamingo3"].mrope


def test_features_padded_separately_are_stacked_with_zero_padding() -> None:
    import torch

    from s2sbench.models.audio_families.inputs import stack_features

    short, long = torch.ones(1, 4, 50), torch.ones(2, 4, 80)
    stacked = stack_features([short, long])
    assert stacked.shape == (3, 4, 80)
    assert stacked[0, :, 50:].abs().sum() == 0 and stacked[0, :, :50].min() == 1
    masks = stack_features(
        [torch.ones(1, 50, dtype=torch.long), torch.ones(1, 80, dtype=torch.long)]
    )
    assert masks.sum(1).tolist() == [50, 80]
