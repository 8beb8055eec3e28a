"""Building one batch's inputs from per-request pieces, the same way for every family.

Audio is featurised once per request (so a context's audio is decoded once),
which means a batch joins feature tensors that the feature extractor padded
separately: fixed-window extractors (Whisper-style, 30 s) give equal shapes,
pad-to-longest ones (Qwen3-Omni) do not. :func:`stack_features` zero-pads every
non-batch dimension to the batch maximum; masks padded with zeros mark the
added frames as padding, which is what the extractor itself does for a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.models.text_encoding import fit_window, split_text, tokenizer_special_tokens

if TYPE_CHECKING:
    import numpy as np

    from s2sbench.models.audio_specs import AudioLMSpec


def split_continuation(
    tokenizer: Any, context: str, continuation: str, where: str
) -> tuple[list[int], list[int]]:
    """(context ids, continuation ids) with the context an exact token prefix of the whole.

    The rule of :mod:`s2sbench.models.text_encoding`: trailing whitespace of a text context
    moves to the continuation, and the context starts with the tokenizer's own leading
    special tokens (BOS for Gemma 3n and Voxtral, none for the Qwen families), as the
    processor's tokenizer call puts them before an S2T prefix, so both conditions of one
    model see the same kind of input.
    """
    lead, _ = tokenizer_special_tokens(tokenizer)
    return split_text(tokenizer, lead, context, continuation, where, strict=True)


def encode_text_request(
    tokenizer: Any,
    request: ContextRequest,
    start_id: int | None,
    max_length: int | None,
    long_context: str,
) -> tuple[list[int], list[list[int]], int]:
    """(context ids, each continuation's ids, tokens cut) of a T2T request: an empty context
    reads from BOS/EOS; one longer than the window follows ``long_context``."""
    where = f"task {request.task}, item {request.item_id}"
    split = [
        split_continuation(tokenizer, request.text_context, cont, where)
        for cont in request.continuations
    ]
    tails = [tail for _, tail in split]
    context_ids = split[0][0] or ([start_id] if start_id is not None else [])
    longest = max(len(tail) for tail in tails)
    context_ids, cut = fit_window(context_ids, longest, max_length, long_context, where)
    return context_ids, tails, cut


def check_processor(processor: Any, spec: AudioLMSpec, where: str) -> None:
    """Fail at load time when the processor cannot take this family's audio as specified."""
    extractor = getattr(processor, "feature_extractor", None) or getattr(
        processor, "audio_processor", None
    )
    rate = getattr(extractor, "sampling_rate", None)
    tokenizer = processor.tokenizer
    token_id = tokenizer.convert_tokens_to_ids(spec.audio_token)
    if rate != spec.sampling_rate:
        problem = f"feature extractor takes {rate} Hz, the spec says {spec.sampling_rate}"
    elif token_id is None or token_id == tokenizer.unk_token_id:
        problem = f"the tokenizer has no audio token '{spec.audio_token}'"
    elif tokenizer_special_tokens(tokenizer)[1]:  # it would sit between context and continuation
        problem = "the tokenizer appends special tokens (EOS) after every text (add_eos_token)"
    else:
        return
    raise ModelError(problem, where=where, hint="check the checkpoint's processor files")


def encode_with_processor(
    processor: Any,
    spec: AudioLMSpec,
    prefix: str,
    pieces: Sequence[np.ndarray],
    continuations: Sequence[str],
    where: str,
) -> tuple[list[int], list[list[int]], dict[str, Any]]:
    """(expanded context ids, each continuation's ids, audio inputs) of one S2T request.

    The family's processor reads ``prefix`` + one placeholder per audio piece and
    expands each placeholder to one audio token per encoder frame; a processor that
    drops the audio (wrong keyword) or a feature key is an error, never a text-only score.
    """
    tokenizer = processor.tokenizer
    context = prefix + spec.placeholder * len(pieces)
    hint = f"check AudioLMSpec.audio_kwarg ('{spec.audio_kwarg}') of {spec.model_type}"
    try:
        encoded = processor(
            text=[context],
            **{spec.audio_kwarg: list(pieces)},
            sampling_rate=spec.sampling_rate,
            return_tensors="pt",
        )
    except (ValueError, TypeError) as exc:
        raise ModelError(
            f"the processor rejected the audio ({exc})", where=where, hint=hint
        ) from None
    expanded = encoded["input_ids"][0].tolist()
    missing = [key for key in spec.feature_keys if key not in encoded]
    audio_token_id = tokenizer.convert_tokens_to_ids(spec.audio_token)
    if missing or expanded.count(audio_token_id) <= len(pieces):
        raise ModelError(
            f"the processor did not encode the audio (missing {missing or 'audio tokens'})",
            where=where,
            hint=hint,
        )
    tails = [split_continuation(tokenizer, context, c, where)[1] for c in continuations]
    return expanded, tails, {key: encoded[key] for key in spec.feature_keys}


def stack_features(tensors: list[Any]) -> Any:
    """Concatenate per-request feature tensors on dim 0, zero-padding the other dims."""
    import torch
    import torch.nn.functional as F

    shape = [max(t.shape[d] for t in tensors) for d in range(1, tensors[0].dim())]
    padded = []
    for tensor in tensors:
        widths: list[int] = []
        for d in reversed(range(1, tensor.dim())):
            widths += [0, shape[d - 1] - tensor.shape[d]]
        padded.append(F.pad(tensor, widths) if any(widths) else tensor)
    return torch.cat(padded)


class RopeState:
    """Clears per-call rotary state (``rope_deltas``) that Qwen-VL/Omni models keep on modules.

    Those models cache the offset between text and multimodal positions after
    a forward with a new prompt and reuse it when a later call looks like a
    continuation of a cached one; a stale value from the previous batch would
    shift every position of the next. Scoring calls are independent, so the
    state is reset before each one.
    """

    def __init__(self, model: Any):
        self.holders = [m for m in model.modules() if hasattr(m, "rope_deltas")]

    def reset(self) -> None:
        for module in self.holders:
            module.rope_deltas = None


def embed_each_audio(
    inputs: dict[str, Any],
    token_embeds: Any,
    audio_token_id: int,
    audio: list[dict[str, Any]],
    embed_row: Callable[[int, dict[str, Any]], Any],
    where: str,
) -> dict[str, Any]:
    """``inputs`` with ``input_ids`` replaced by ``inputs_embeds``, each audio row encoded alone.

    For encoders whose output depends on padding (Phi-4, Granite Speech):
    ``token_embeds`` are the batch's text embeddings; ``embed_row(row, features)``
    returns that row's embeddings with its own audio (``audio`` holds the
    per-request features of the rows that contain audio tokens, in row order, as
    :class:`~s2sbench.models.audio_pieces.AudioInputs` passes them), so no score
    depends on which other audios share its batch.
    """
    import torch

    ids = inputs["input_ids"]
    with_audio = (ids == audio_token_id).any(dim=1).nonzero().flatten().tolist()
    if len(with_audio) != len(audio):
        raise ModelError(
            f"{len(with_audio)} rows hold audio tokens but {len(audio)} audios were featurised",
            where=where,
            hint="a continuation must not contain the audio token text",
        )
    rows = list(token_embeds.unbind(0))
    for row, features in zip(with_audio, audio):
        rows[row] = embed_row(row, features)
    rest = {key: value for key, value in inputs.items() if key != "input_ids"}
    return {**rest, "inputs_embeds": torch.stack(rows)}
