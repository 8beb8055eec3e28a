"""Prompt templates are data: they are recorded in results and are part of every score key.

The ``reference`` template is the S2SBench protocol to the letter:

* T2T: ``context + joiner + continuation`` (joiner: one space for English,
  nothing for Chinese), no prefix.
* S2T: ``prefix + <audio> + continuation`` with the language prefix below.

Cascade adapters (ASR -> text LM) put the transcript where T2T puts the
context text, so their S2T differs from their T2T only by what was heard.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from s2sbench.errors import ConfigError

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

    def prefix_for(self, lang: str, context_is_speech: bool) -> str:
        table = self.speech_prefix if context_is_speech else self.text_prefix
        return table.get(lang, "")

    def joiner_for(self, lang: str) -> str:
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
