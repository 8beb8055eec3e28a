"""What a model scores: one context with every continuation of it.

Built by the requests stage (``s2sbench.requests.build``), read by every model
adapter, stored by the score store and rendered into sample logs, so it lives
in the core layer that all of them may import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from s2sbench.core.conditions import Condition


@dataclass(frozen=True)
class ContextRequest:
    """What a model scores: one context and every continuation of it.

    A text context is ``prefix + context_text + joiner``; a spoken one is
    ``prefix + <context_audio>`` (no joiner: the reference S2T input puts the
    continuation right after the audio). The context-free ``none`` condition has
    an empty text context, no prefix and no joiner: text LMs read the continuation
    from BOS, and a cascade has nothing to transcribe. Continuations are raw text;
    ``continuation_audio`` is set for the speech-continuation conditions.

    ``gold`` is the index of the plausible continuation in the *item*. When
    the item's continuations hear different context audio, each request
    carries only some of them: ``part`` holds their indices in the item
    (``continuations[i]`` is the item's ``part[i]``); ``None`` means all.
    """

    task: str
    item_id: str
    condition: Condition
    lang: str
    prefix: str
    context_text: str | None
    context_audio: Path | None
    joiner: str
    continuations: tuple[str, ...]
    continuation_audio: tuple[Path, ...] | None
    gold: int
    key: str
    part: tuple[int, ...] | None = None

    @property
    def text_context(self) -> str:
        """The full text that precedes a continuation when the context is text."""
        if self.context_text is None:
            raise ValueError("this request's context is speech")
        return self.prefix + self.context_text + self.joiner

    @property
    def spoken_context(self) -> Path:
        """The audio file of a spoken context."""
        if self.context_audio is None:
            raise ValueError("this request's context is text")
        return self.context_audio

    def render(self, index: int) -> str:
        """Human-readable input for continuation ``index`` (for logs and reports)."""
        if self.context_text is not None:
            context = self.text_context
        else:
            context = f"{self.prefix}<audio:{self.context_audio}>"
        if self.continuation_audio is not None:
            return f"{context}<audio:{self.continuation_audio[index]}>"
        return context + self.continuations[index]
