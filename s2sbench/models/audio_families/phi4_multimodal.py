"""Phi-4-multimodal: each row's audio goes through the speech encoder alone.

Its conformer encoder is not invariant to padding: the convolutional
subsampling and the conformer's depthwise convolutions read the frames past an
audio's end, so zero-padding a short audio to a batch's longest one changes
its embeddings even with ``audio_attention_mask`` (checked on a tiny random
instance: about 4e-5 at the last frames, in float64 too). A score must not
depend on which other contexts share its batch, so the adapter builds
``inputs_embeds`` itself: token embeddings for every row, then the model's own
audio embedding module run once per audio row on that row's unpadded features
(exactly what the processor gives for one audio), as in single-audio use.
"""

from __future__ import annotations

from typing import Any

from s2sbench.models.audio_families.inputs import embed_each_audio

AUDIO_KEYS = ("audio_input_features", "audio_embed_sizes")


def embed_audio_rows(model: Any, inputs: dict[str, Any], audio: list[dict[str, Any]]) -> dict:
    """``inputs`` with ``inputs_embeds`` carrying each row's audio, encoded alone."""
    body = model.model
    ids = inputs["input_ids"]
    extend = body.embed_tokens_extend
    embeds = body.embed_tokens(ids)

    def embed_row(row: int, features: dict[str, Any]) -> Any:
        return extend.audio_embed(
            ids[row : row + 1],
            embeds[row : row + 1],
            audio_input_features=features["audio_input_features"].to(ids.device, model.dtype),
            audio_embed_sizes=features["audio_embed_sizes"].to(ids.device),
            audio_projection_mode="speech",
        )[0]

    return embed_each_audio(
        inputs, embeds, extend.audio_token_id, audio, embed_row, "phi4_multimodal batch"
    )
