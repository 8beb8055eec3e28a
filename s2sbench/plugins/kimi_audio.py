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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.models.batching import pad_rows
from s2sbench.models.token_scoring import Scored, TokenUnit, full_sequence_scores
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

    def _logits(self, ids: Any, text: Any) -> Any:
        """Audio-stream logits, indexed by absolute token id."""
        import torch

        positions = torch.arange(ids.shape[1], device=ids.device)[None].expand_as(ids)
        out = self.model(
            input_ids=ids, text_input_ids=text, position_ids=positions, return_dict=False
        )
        audio = out[0]
        if audio.shape[-1] < self.model.config.vocab_size:  # a head over the codes only
            pad = audio.new_full((*audio.shape[:-1], self.offset), float("-inf"))
            audio = torch.cat([pad, audio], -1)
        return audio

    def _forward(self, units: list[TokenUnit]) -> list[Scored]:
        """Both streams padded with blanks; the text stream holds blanks under every tail."""
        rows = [(_text_stream(u), tail) for u in units for tail in u.tails]
        text, _, _ = pad_rows(
            [t + [self.blank] * len(tail) for t, tail in rows], self.blank, "right"
        )
        device = self.model.device
        return full_sequence_scores(
            units, lambda ids, _mask: self._logits(ids.to(device), text.to(device)), self.blank
        )
