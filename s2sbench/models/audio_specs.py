"""What differs between audio-LLM families, as data: one frozen spec per ``model_type``.

Keeping the processor keyword, placeholder text, sampling rate and window in
one place means a new family is a new entry here, not a new code path, and
that the easy-to-miss details (the processor's audio keyword is ``audio``,
not ``audios``: a wrong keyword silently scores the text without its audio)
are written down once and checked at load time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from s2sbench.core.errors import ModelError
from s2sbench.models.audio_families import granite_speech, phi4_multimodal, voxtral


@dataclass(frozen=True)
class AudioLMSpec:
    """How to feed one context audio to a family's processor and model.

    ``placeholder`` is the text put where the audio goes; the processor
    expands ``audio_token`` inside it to one token per encoder frame.
    ``max_seconds`` is the encoder's window (Whisper-style encoders see 30 s).
    ``mrope`` marks multimodal rotary positions (Qwen2.5/3-Omni): the model
    derives its 3-D position ids from the ids and mask, so the adapter never
    builds position ids for it (hence no context-cache reuse, which would need
    them) and clears the model's cached ``rope_deltas`` before every forward.
    ``embed_rows`` is set for encoders whose output depends on padding
    (Phi-4's conformer): it turns a batch's ids and per-row audio features into
    ``inputs_embeds`` with every audio encoded alone, so no score depends on
    which other audios share its batch.
    ``encode_s2t`` is set for processors that cannot take audio with plain text
    (Voxtral): it lays out the S2T context ids, continuation ids and audio inputs itself.
    ``check_loaded`` refuses loaded weights the family cannot score as specified, and
    ``set_audio_mode`` switches the model per batch between its audio and text
    behaviour (Granite Speech: a LoRA adapter for audio input only; batches never
    mix the two conditions).
    """

    model_type: str
    model_class: str
    audio_kwarg: str
    audio_token: str
    placeholder: str
    sampling_rate: int
    max_seconds: float | None
    feature_keys: tuple[str, ...]
    mrope: bool = False
    embed_rows: Callable[[Any, dict[str, Any], list[dict[str, Any]]], dict[str, Any]] | None = None
    encode_s2t: Callable[..., tuple[list[int], list[list[int]], dict[str, Any]]] | None = None
    check_loaded: Callable[[Any, str], None] | None = None
    set_audio_mode: Callable[[Any, bool], None] | None = None


QWEN2_AUDIO = AudioLMSpec(
    model_type="qwen2_audio",
    model_class="Qwen2AudioForConditionalGeneration",
    audio_kwarg="audio",
    audio_token="<|AUDIO|>",
    placeholder="<|audio_bos|><|AUDIO|><|audio_eos|>",
    sampling_rate=16000,
    max_seconds=30.0,
    feature_keys=("input_features", "feature_attention_mask"),
)

AUDIO_FLAMINGO3 = AudioLMSpec(
    model_type="audioflamingo3",
    model_class="AudioFlamingo3ForConditionalGeneration",
    audio_kwarg="audio",
    audio_token="<sound>",
    placeholder="<sound>",
    sampling_rate=16000,
    max_seconds=600.0,  # the processor itself splits one audio into 30 s encoder windows
    feature_keys=("input_features", "input_features_mask"),
)

QWEN2_5_OMNI_THINKER = AudioLMSpec(
    model_type="qwen2_5_omni_thinker",
    model_class="Qwen2_5OmniThinkerForConditionalGeneration",
    audio_kwarg="audio",
    audio_token="<|AUDIO|>",
    placeholder="<|audio_bos|><|AUDIO|><|audio_eos|>",
    sampling_rate=16000,
    max_seconds=30.0,
    feature_keys=("input_features", "feature_attention_mask"),
    mrope=True,
)

QWEN3_OMNI_MOE_THINKER = AudioLMSpec(
    model_type="qwen3_omni_moe_thinker",
    model_class="Qwen3OmniMoeThinkerForConditionalGeneration",
    audio_kwarg="audio",
    audio_token="<|audio_pad|>",
    placeholder="<|audio_start|><|audio_pad|><|audio_end|>",
    sampling_rate=16000,
    max_seconds=30.0,
    feature_keys=("input_features", "feature_attention_mask"),
    mrope=True,
)

PHI4_MULTIMODAL = AudioLMSpec(
    model_type="phi4_multimodal",
    model_class="Phi4MultimodalForCausalLM",
    audio_kwarg="audio",
    audio_token="<|endoftext11|>",
    placeholder="<|endoftext11|>",
    sampling_rate=16000,
    max_seconds=1800.0,  # chunked conformer; the model card's limit (30 min, summarisation)
    feature_keys=phi4_multimodal.AUDIO_KEYS,
    embed_rows=phi4_multimodal.embed_audio_rows,
)

GEMMA3N = AudioLMSpec(
    model_type="gemma3n",
    model_class="Gemma3nForConditionalGeneration",
    audio_kwarg="audio",
    audio_token="<audio_soft_token>",
    placeholder="<audio_soft_token>",  # the processor writes "\n\n<boa>" + 188 tokens + "<eoa>\n\n"
    sampling_rate=16000,
    max_seconds=30.0,  # the feature extractor silently truncates beyond 30 s
    feature_keys=("input_features", "input_features_mask"),
)

VOXTRAL = AudioLMSpec(
    model_type="voxtral",
    model_class="VoxtralForConditionalGeneration",
    audio_kwarg="audio",  # unused: the processor takes no audio with plain text (see voxtral.py)
    audio_token="[AUDIO]",
    placeholder="[BEGIN_AUDIO][AUDIO]",  # fingerprint only; ids are built by encode_s2t
    sampling_rate=16000,
    max_seconds=1800.0,  # the model card's limit for transcription (30 min, 30 s encoder windows)
    feature_keys=voxtral.AUDIO_KEYS,
    encode_s2t=voxtral.encode_s2t,
)

GRANITE_SPEECH = AudioLMSpec(
    model_type="granite_speech",
    model_class="GraniteSpeechForConditionalGeneration",
    audio_kwarg="audio",
    audio_token="<|audio|>",
    placeholder="<|audio|>",
    sampling_rate=16000,
    # block-attention conformer with no fixed window, and no limit on the model card: the
    # long-audio policy does not apply; cut long contexts when building the dataset
    max_seconds=None,
    feature_keys=granite_speech.AUDIO_KEYS,
    embed_rows=granite_speech.embed_audio_rows,
    check_loaded=granite_speech.check_audio_adapter,
    set_audio_mode=granite_speech.use_audio_adapter,
)

AUDIO_LM_SPECS: dict[str, AudioLMSpec] = {
    spec.model_type: spec
    for spec in (
        QWEN2_AUDIO,
        AUDIO_FLAMINGO3,
        QWEN2_5_OMNI_THINKER,
        QWEN3_OMNI_MOE_THINKER,
        PHI4_MULTIMODAL,
        GEMMA3N,
        VOXTRAL,
        GRANITE_SPEECH,
    )
}


def spec_for(model_type: str | None, where: str) -> AudioLMSpec:
    """The spec of ``model_type`` or a clear error listing the supported families."""
    spec = AUDIO_LM_SPECS.get(model_type or "")
    if spec is None:
        raise ModelError(
            f"model_type '{model_type}' is not a supported audio LLM family",
            where=where,
            hint=f"supported: {', '.join(AUDIO_LM_SPECS)}; add an AudioLMSpec in "
            "s2sbench/models/audio_specs.py, or write a plugin adapter",
        )
    return spec
