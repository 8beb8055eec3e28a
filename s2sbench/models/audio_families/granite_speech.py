"""Granite Speech: each audio encoded alone, and its LoRA adapter on for audio input only.

Encoder: a conformer with block attention and depthwise convolutions, then a
Q-Former projector over fixed windows of encoder frames. Neither takes a
padding mask, so zero-padding a short audio to its batch's longest changes the
embeddings of its last window (about 2e-3 on a tiny random instance). The
adapter therefore builds ``inputs_embeds`` itself, running the model's own
``get_audio_features`` on each request's features exactly as the processor
made them for that request, and keeping the projector outputs that the
processor's ``input_features_mask`` marks as real (as the model's own merge
does), one per ``<|audio|>`` token.

Released checkpoints carry a LoRA adapter on the LM's query/value projections
that the model's ``generate()`` switches on when audio is given and off for
text-only prompts, so the text condition reads the untouched base LM. Scoring
does the same per batch (:func:`use_audio_adapter`); batches never mix the two
conditions. A config that announces the adapter (``has_lora_adapter``) with no
adapter loaded is refused: its S2T scores would not be the model's.
"""

from __future__ import annotations

from typing import Any

from s2sbench.core.errors import ModelError
from s2sbench.models.audio_families.inputs import embed_each_audio

AUDIO_KEYS = ("input_features", "input_features_mask")


def embed_audio_rows(model: Any, inputs: dict[str, Any], audio: list[dict[str, Any]]) -> dict:
    """``inputs`` with ``inputs_embeds`` carrying each row's audio, encoded alone."""
    import torch

    body = model.model
    ids = inputs["input_ids"]
    audio_id = model.config.audio_token_id
    # the model's own text path: audio tokens read embedding 0 until the audio replaces them
    embeds = body.get_input_embeddings()(torch.where(ids == audio_id, 0, ids))

    def embed_row(row: int, features: dict[str, Any]) -> Any:
        frames = features["input_features"].to(ids.device, model.dtype)
        projected = body.get_audio_features(frames, return_dict=True).pooler_output
        projected = projected[features["input_features_mask"].to(ids.device)]
        slots = ids[row] == audio_id
        if int(slots.sum()) != len(projected):
            raise ModelError(
                f"{int(slots.sum())} audio tokens but {len(projected)} audio embeddings",
                where="granite_speech batch",
                hint="the processor and the model disagree on the audio length",
            )
        return embeds[row].masked_scatter(slots[:, None], projected.to(embeds.dtype))

    return embed_each_audio(inputs, embeds, audio_id, audio, embed_row, "granite_speech batch")


def check_audio_adapter(model: Any, where: str) -> None:
    """Refuse a checkpoint whose config announces the audio LoRA adapter when none loaded."""
    wanted = bool(getattr(model.config, "has_lora_adapter", False))
    if wanted and not getattr(model, "_hf_peft_config_loaded", False):
        raise ModelError(
            "the config says a LoRA adapter applies to audio input (has_lora_adapter), but "
            "none was loaded with the weights",
            where=where,
            hint="install peft (the version transformers asks for) and keep the adapter files "
            "(adapter_config.json, adapter_model.safetensors) beside the weights",
        )


def use_audio_adapter(model: Any, with_audio: bool) -> None:
    """Switch the loaded LoRA adapter on for a batch with audio, off for a text-only one.

    Through peft's own per-layer switch, which is what transformers'
    ``enable_adapters``/``disable_adapters`` call after a peft version check: an
    adapter that the installed peft loaded can always be switched, whatever
    minimum version transformers names for other adapter features.
    """
    if not getattr(model, "_hf_peft_config_loaded", False):
        return
    from peft.tuners.tuners_utils import BaseTunerLayer
    from peft.utils import ModulesToSaveWrapper

    for module in model.modules():
        if isinstance(module, (BaseTunerLayer, ModulesToSaveWrapper)):
            module.enable_adapters(enabled=with_audio)
