"""Prompt templates are data: they are recorded in results and are part of every score key.

The ``reference`` template is the S2SBench protocol to the letter:

* T2T: ``context + joiner + continuation`` (joiner: one space for English,
  nothing for Chinese), no prefix.
* S2T: ``prefix + <audio> + continuation`` with the language prefix below.
* none (the context-free baseline): ``continuation`` alone, no prefix and no joiner;
  text LMs put their BOS (else EOS) before it.

Cascade adapters (ASR -> text LM) put the transcript where T2T puts the
context text, so their S2T differs from their T2T only by what was heard.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from s2sbench.core.conditions import Condition
from s2sbench.core.errors import ConfigError

REFERENCE_PREFIX = {
    "en": "Below is a segment of alternating speech and text content: ",
    "zh": "下面是一段语音和文本交错的内容：",
}
REFERENCE_JOINER = {"en": " ", "zh": ""}


@dataclass(frozen=True)
class PromptTemplate:
    """How context and continuation are put together, per language."""

    name: str
    text_prefix: dict[str, str] = field(default_factory=dict)
    speech_prefix: dict[str, str] = field(default_factory=lambda: dict(REFERENCE_PREFIX))
    joiner: dict[str, str] = field(default_factory=lambda: dict(REFERENCE_JOINER))

    def prefix_for(self, lang: str, condition: Condition | bool) -> str:
        """The prefix before the context; ``condition`` may be a bare "context is speech"."""
        if isinstance(condition, Condition):
            if not condition.has_context:
                return ""
            condition = condition.context_is_speech
        table = self.speech_prefix if condition else self.text_prefix
        return table.get(lang, "")

    def joiner_for(self, lang: str, condition: Condition | None = None) -> str:
        """Between a text context and its continuation; nothing when there is no context."""
        if condition is not None and not condition.has_context:
            return ""
        return self.joiner.get(lang, " ")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


TEMPLATES: dict[str, PromptTemplate] = {
    "reference": PromptTemplate("reference"),
}


def get_template(name: str | PromptTemplate) -> PromptTemplate:
    if isinstance(name, PromptTemplate):
        return name
    if name not in TEMPLATES:
        raise ConfigError(
            f"unknown prompt template '{name}'", hint=f"known: {', '.join(TEMPLATES)}"
        )
    return TEMPLATES[name]
