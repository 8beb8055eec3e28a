"""Voxtral: the S2T context's ids are laid out here, not by the processor.

``VoxtralProcessor.__call__`` refuses audio tokens in text, and audio enters
the real pipeline only through ``apply_chat_template`` (a mistral-common chat
turn ``[INST]...[/INST]``), which cannot express the protocol's bare
``prefix + <audio> + continuation``. So the ids are built the way that
template lays out one audio: the tokenizer's ``prefix`` ids (BOS included),
then ``[BEGIN_AUDIO]`` and one ``[AUDIO]`` per audio embedding, then the
continuation's own ids. The audio is featurised as the processor does: padded
to a whole number of encoder windows (30 s) and cut into one mel chunk per
window. Each window gives ``max_source_positions * hidden / intermediate``
embeddings (the encoder's frames, grouped by the projector's reshape): 375 for
the released models, which is mistral-common's count too (12.5 tokens per second).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from s2sbench.core.errors import ModelError

AUDIO_KEYS = ("input_features",)
BEGIN_AUDIO = "[BEGIN_AUDIO]"


def tokens_per_window(config: Any) -> int:
    """Audio embeddings the model makes from one encoder window (the placeholder count)."""
    audio = config.audio_config
    return audio.max_source_positions * audio.hidden_size // audio.intermediate_size


def encode_s2t(
    processor: Any,
    config: Any,
    prefix: str,
    pieces: Sequence[Any],
    continuations: Sequence[str],
    where: str,
) -> tuple[list[int], list[list[int]], dict[str, Any]]:
    """(context ids, each continuation's ids, audio inputs) for ``prefix + audio + continuation``.

    Every piece of a context audio (more than one only under ``long_audio=chunk``) is its own
    ``[BEGIN_AUDIO]`` span, as the chat template writes one span per audio.
    """
    import torch

    tokenizer, extractor = processor.tokenizer, processor.feature_extractor
    window = 2 * config.audio_config.max_source_positions  # mel frames; conv2 has stride 2
    samples = extractor.hop_length * window
    begin = tokenizer.convert_tokens_to_ids(BEGIN_AUDIO)
    if begin is None or begin == tokenizer.unk_token_id:
        raise ModelError(
            f"the tokenizer has no '{BEGIN_AUDIO}' token",
            where=where,
            hint="check the checkpoint's tokenizer files (tekken.json)",
        )
    ids = list(tokenizer(prefix)["input_ids"])
    chunks = []
    for piece in pieces:
        mel = extractor(
            piece,
            sampling_rate=extractor.sampling_rate,
            padding="longest",
            pad_to_multiple_of=samples,
            truncation=False,
            return_tensors="pt",
        )["input_features"]
        chunk = mel.reshape(extractor.feature_size, -1, window).transpose(0, 1)
        chunks.append(chunk)
        span = len(chunk) * tokens_per_window(config)
        ids += [begin] + [config.audio_token_id] * span
    tails = []
    for continuation in continuations:
        tail = list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
        if not tail:
            raise ModelError(
                f"continuation {continuation!r} has no tokens",
                where=where,
                hint="the continuation is empty; fix the data",
            )
        tails.append(tail)
    return ids, tails, {"input_features": torch.cat(chunks)}
