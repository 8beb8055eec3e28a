"""Typed, immutable benchmark items and tasks.

An :class:`Item` is one shared context with its candidate continuations; the
index ``gold`` names the plausible one. Everything downstream (requests,
scores, metrics) is keyed by the item's content, so items never change after
they are read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

TaskKind = Literal["story", "choice"]
LANGUAGES = ("en", "zh")


def _frozen(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(meta or {}))


@dataclass(frozen=True)
class Item:
    """One context and its continuations, in one language.

    ``context_audio`` is the spoken context (``<audio_dir>/<uttid>.wav`` in the
    reference layout); ``continuation_audio`` holds spoken continuations for
    the speech-continuation conditions, when a dataset has them.

    ``context_audios``, when set, is the context audio each continuation is
    scored after, one path per continuation. The reference scores every row
    after its own ``<uttid>.wav``: a story pair's wrong ending (row 2k+1)
    after ``(2k+1).wav``, which may differ from the right ending's ``2k.wav``.
    ``None`` means every continuation hears ``context_audio``.
    """

    id: str
    lang: str
    context_text: str
    continuations: tuple[str, ...]
    gold: int
    context_audio: Path | None = None
    continuation_audio: tuple[Path, ...] | None = None
    meta: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    context_audios: tuple[Path, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "continuations", tuple(self.continuations))
        object.__setattr__(self, "meta", _frozen(self.meta))
        if not 0 <= self.gold < len(self.continuations):
            raise ValueError(f"item {self.id}: gold index {self.gold} out of range")
        if self.context_audios is not None:
            object.__setattr__(self, "context_audios", tuple(self.context_audios))
            if len(self.context_audios) != len(self.continuations):
                raise ValueError(f"item {self.id}: one context audio per continuation expected")

    def context_audio_for(self, index: int) -> Path | None:
        """The spoken context continuation ``index`` is scored after."""
        if self.context_audios is not None:
            return self.context_audios[index]
        return self.context_audio

    @property
    def subject(self) -> str | None:
        value = self.meta.get("subject")
        return str(value) if value is not None else None

    def content_hash(self) -> str:
        """Hash of the text content: a changed sentence gives a new key, so no stale score."""
        payload = json.dumps(
            [self.lang, self.context_text, list(self.continuations), self.gold],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Task:
    """A named, versioned list of items of one kind and language."""

    name: str
    kind: TaskKind
    lang: str
    items: tuple[Item, ...]
    version: str = "1"
    source: str = ""
    description: str = ""

    def __len__(self) -> int:
        return len(self.items)

    def limited(self, limit: int | float | None) -> Task:
        """First ``limit`` items (an int), or that fraction of them (a float < 1)."""
        if limit is None:
            return self
        n = int(len(self.items) * limit) if isinstance(limit, float) and limit < 1 else int(limit)
        return Task(
            self.name,
            self.kind,
            self.lang,
            self.items[:n],
            self.version,
            self.source,
            self.description,
        )
