"""Kimi-Audio style models: two parallel token streams, speech tokens offset into the vocabulary.

Kimi-Audio reads, at every position, one token of an *audio* stream and one of
a *text* stream (the model's remote code takes ``input_ids`` = audio stream and
``text_input_ids`` = text stream and returns audio and text logits). Speech
tokens (GLM-4-Voice's 12.5 Hz tokenizer) are the ids ``kimia_token_offset +
code``; a speech segment is wrapped in ``kimia_media_begin`` /
``kimia_media_end``; where a stream has nothing, it holds ``kimia_text_blank``.
All of these ids come from the checkpoint's config.

Inputs (speech continuations only: S2S, T2S):

* spoken context: audio stream ``begin codes end``, text stream blanks;
  text context: text stream = its tokens, audio stream blanks;
* continuation: audio stream ``begin codes``, text stream blanks; only the
  codes are scored, from the audio logits.

Whisper features (the model's continuous audio input) are not given: the
discrete codes carry the speech, as in Kimi-Audio's audio-generation prompts.
What is verified: the stream layout, scoring mask and batching, with a tiny
two-stream stand-in model. The real Kimi-Audio code and weights were not run.

Scoring is the package's one token scorer with two pieces of this plugin's own
(:mod:`~s2sbench.models.forward_pieces`): :class:`TextStream` adds the text stream
(a request's extras) and drops the attention mask (rows are right-padded, so no
scored position sees a pad, and the remote code is called as before);
:class:`AudioStreamHead` reads the audio logits. Full sequences only: the
two-stream forward is not known to return a cache that a continuation of both
streams could read, so context reuse is off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.models.causal_scoring import TokenScorer
from s2sbench.models.context_scorer import ContextReuse, ContextScorer
from s2sbench.models.text_encoding import EncodedRequest
from s2sbench.models.token_scoring import TokenUnit
from s2sbench.plugins.glm4_voice import AudioTokenLM

CONFIG_KEYS = ("kimia_token_offset", "kimia_media_begin", "kimia_media_end", "kimia_text_blank")


@dataclass
class StreamRequest(TokenUnit):
    """A :class:`TokenUnit` whose context also has a text stream (same length)."""

    text: list[int] | None = None


def _text_stream(unit: TokenUnit) -> list[int]:
    """The text stream of a unit this adapter built (every one is a :class:`StreamRequest`)."""
    if not isinstance(unit, StreamRequest) or unit.text is None:
        raise TypeError("Kimi-Audio scores only the StreamRequests it builds")
    return unit.text


class TextStream:
    """Kimi-Audio's inputs piece: each row's text stream (its context's, then blanks) beside
    the audio stream in ``input_ids``; no attention mask (see the module docstring)."""

    positions = True

    def __init__(self, blank: int):
        self.blank = blank

    def extend(
        self, inputs: dict[str, Any], offsets: Sequence[int], extras: Sequence[Any] | None
    ) -> dict[str, Any]:
        if extras is None:
            raise TypeError("Kimi-Audio scores full sequences only")
        ids = inputs["input_ids"]
        text = ids.new_full(ids.shape, self.blank)
        for row, (offset, stream) in enumerate(zip(offsets, extras)):
            text[row, offset : offset + len(stream)] = ids.new_tensor(stream)
        rest = {key: value for key, value in inputs.items() if key != "attention_mask"}
        return {**rest, "text_input_ids": text}


class AudioStreamHead:
    """Kimi-Audio's head: audio-stream logits (``out[0]``) at the read positions, indexed by
    absolute token id (a head over the codes only is padded with -inf below the offset)."""

    cache_arg = "past_key_values"

    def __init__(self, model: Any, offset: int):
        self.model = model
        self.offset = offset

    def select(self, keep: Any, **inputs: Any) -> tuple[Any, Any]:
        import torch

        inputs.pop("use_cache", None)  # called as before: the remote code's own defaults
        out = self.model(**inputs, return_dict=False)
        audio = out[0][keep]
        if audio.shape[-1] < self.model.config.vocab_size:  # a head over the codes only
            pad = audio.new_full((*audio.shape[:-1], self.offset), float("-inf"))
            audio = torch.cat([pad, audio], -1)
        return out, audio


class KimiAudio(AudioTokenLM):
    """Kimi-Audio (MoonshotKimia remote code): S2S and T2S on the audio stream."""

    name = "kimi-audio"
    family = "Kimi-Audio"
    summary = "Kimi-Audio: two token streams, speech tokens offset into the vocabulary"
    conditions = ("s2s", "t2s")

    def _config(self) -> dict[str, int]:
        config = self.config
        missing = [key for key in CONFIG_KEYS if getattr(config, key, None) is None]
        if missing:
            raise ModelError(
                f"config has no {', '.join(missing)}: not a Kimi-Audio checkpoint",
                where=self.pretrained,
            )
        return {key: int(getattr(config, key)) for key in CONFIG_KEYS}

    def _markers(self) -> tuple[int, int]:
        ids = self._config()
        self.offset, self.blank = ids["kimia_token_offset"], ids["kimia_text_blank"]
        return ids["kimia_media_begin"], ids["kimia_media_end"]

    def audio_ids(self, units: list[int]) -> list[int]:
        vocab = self.config.vocab_size
        if max(units) + self.offset >= vocab:
            raise ModelError(
                f"speech code {max(units)} + offset {self.offset} is outside the vocabulary "
                f"({vocab})",
                where=self.pretrained,
                hint="the speech tokenizer does not match this model",
            )
        return [self.offset + u for u in units]

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if not condition.continuation_is_speech:
            return "the Kimi-Audio plugin scores spoken continuations (S2S, T2S) only"
        return None

    def _request(self, index: int, request: ContextRequest) -> StreamRequest:
        where = f"task {request.task}, item {request.item_id}"
        reason = self.unsupported_reason(request.condition, request.lang)
        if reason or request.continuation_audio is None:
            raise ModelError(reason or "request has no continuation audio", where=where)
        if request.context_text is None:
            audio = [self.begin_id, *self._speech(request.context_audio, where), self.end_id]
            text = [self.blank] * len(audio)
        else:
            text = self._text(request.text_context.rstrip())
            audio = [self.blank] * len(text)
        tails = [self._speech(p, where) for p in request.continuation_audio]
        return StreamRequest(index, audio + [self.begin_id], tails, text + [self.blank])

    def _context_scorer(self, reuse_context: bool) -> ContextScorer:
        """Full sequences with the two-stream pieces; reuse off (see the module docstring)."""
        reuse = ContextReuse(False, self.config, self.pretrained)

        def scorer(model: Any) -> TokenScorer:
            head = AudioStreamHead(model, self.offset)
            return TokenScorer(model, self.blank, "right", TextStream(self.blank), head)

        return ContextScorer(lambda: self.model, self.blank, "right", self.batcher, reuse, scorer)

    def _encoded(self, unit: TokenUnit) -> EncodedRequest:
        """The audio stream as ids; the context's text stream as the request's extras."""
        return EncodedRequest(
            tuple(unit.context), tuple(tuple(t) for t in unit.tails), extras=_text_stream(unit)
        )
