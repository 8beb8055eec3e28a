"""What differs between audio-LLM families, as data: one frozen spec per ``model_type``.

Keeping the processor keyword, placeholder text, sampling rate and window in
one place means a new family is a new entry here, not a new code path, and
that the easy-to-miss details (the processor's audio keyword is ``audio``,
not ``audios``: a wrong keyword silently scores the text without its audio)
are written down once and checked at load time.
"""

from __future__ import annotations

from dataclasses import dataclass

from s2sbench.errors import ModelError


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
    ``verified`` says how the entry was checked (shown by ``docs/models.md``).
    """

    model_type: str
    model_class: str
    processor_class: str
    audio_kwarg: str
    audio_token: str
    placeholder: str
    sampling_rate: int
    max_seconds: float | None
    feature_keys: tuple[str, ...]
    mrope: bool = False
    verified: str = "tiny random instance in tests"


QWEN2_AUDIO = AudioLMSpec(
    model_type="qwen2_audio",
    model_class="Qwen2AudioForConditionalGeneration",
    processor_class="Qwen2AudioProcessor",
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
    processor_class="AudioFlamingo3Processor",
    audio_kwarg="audio",
    audio_token="<sound>",
    placeholder="<sound>",
    sampling_rate=16000,
    max_seconds=600.0,  # the processor itself splits one audio into 30 s encoder windows
    feature_keys=("input_features", "input_features_mask"),
)

_OMNI_UNVERIFIED = (
    "not run here: its processor needs torchvision's video processor, which does not load "
    "with this machine's CPU torch"
)

QWEN2_5_OMNI_THINKER = AudioLMSpec(
    model_type="qwen2_5_omni_thinker",
    model_class="Qwen2_5OmniThinkerForConditionalGeneration",
    processor_class="Qwen2_5OmniProcessor",
    audio_kwarg="audio",
    audio_token="<|AUDIO|>",
    placeholder="<|audio_bos|><|AUDIO|><|audio_eos|>",
    sampling_rate=16000,
    max_seconds=30.0,
    feature_keys=("input_features", "feature_attention_mask"),
    mrope=True,
    verified=_OMNI_UNVERIFIED,
)

QWEN3_OMNI_MOE_THINKER = AudioLMSpec(
    model_type="qwen3_omni_moe_thinker",
    model_class="Qwen3OmniMoeThinkerForConditionalGeneration",
    processor_class="Qwen3OmniMoeProcessor",
    audio_kwarg="audio",
    audio_token="<|audio_pad|>",
    placeholder="<|audio_start|><|audio_pad|><|audio_end|>",
    sampling_rate=16000,
    max_seconds=30.0,
    feature_keys=("input_features", "feature_attention_mask"),
    mrope=True,
    verified=_OMNI_UNVERIFIED,
)

AUDIO_LM_SPECS: dict[str, AudioLMSpec] = {
    spec.model_type: spec
    for spec in (QWEN2_AUDIO, AUDIO_FLAMINGO3, QWEN2_5_OMNI_THINKER, QWEN3_OMNI_MOE_THINKER)
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
