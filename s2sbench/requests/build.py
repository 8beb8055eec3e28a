"""Items x conditions -> :class:`ContextRequest`: one context, all its continuations.

Each request carries a model-independent content key built from the task
version, condition, prompt template, item text and audio bytes; the score
store adds the model's identity. Missing audio is found here, before any
model is loaded, and named with its item.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from s2sbench.errors import DataError
from s2sbench.requests.conditions import Condition
from s2sbench.requests.prompts import PromptTemplate
from s2sbench.tasks.item import Task


@dataclass(frozen=True)
class ContextRequest:
    """What a model scores: one context and every continuation of it.

    A text context is ``prefix + context_text + joiner``; a spoken one is
    ``prefix + <context_audio>`` (no joiner: the reference S2T input puts the
    continuation right after the audio). Continuations are raw text;
    ``continuation_audio`` is set for the speech-continuation conditions.
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

    @property
    def text_context(self) -> str:
        """The full text that precedes a continuation when the context is text."""
        if self.context_text is None:
            raise ValueError("this request's context is speech")
        return self.prefix + self.context_text + self.joiner

    def render(self, index: int) -> str:
        """Human-readable input for continuation ``index`` (for logs and reports)."""
        if self.context_text is not None:
            context = self.text_context
        else:
            context = f"{self.prefix}<audio:{self.context_audio}>"
        if self.continuation_audio is not None:
            return f"{context}<audio:{self.continuation_audio[index]}>"
        return context + self.continuations[index]


class AudioHasher:
    """sha256 of audio files, computed once per path per run.

    Hashing is the first time a run touches an audio file, so it is also where
    the file is vetted, before any model is loaded: it must stay inside its
    folder once symlinks are resolved and have a readable, non-empty header.
    """

    def __init__(self) -> None:
        self._cache: dict[Path, str] = {}

    def __call__(self, path: Path, task: str, item_id: str) -> str:
        if path not in self._cache:
            from s2sbench.data.audio import check_contained, probe_audio

            where = f"{path} (item {item_id} of task '{task}')"
            check_contained(path, Path(path).parent, where)
            if Path(path).exists():
                try:
                    probe_audio(path)
                except DataError as exc:
                    raise DataError(exc.what, where=where, hint=exc.hint) from None
            digest = hashlib.sha256()
            try:
                with open(path, "rb") as handle:  # in blocks: a long recording stays out of memory
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
            except FileNotFoundError:
                raise DataError.at(
                    path,
                    None,
                    f"audio of item {item_id} in task '{task}' not found",
                    "render the audio (s2sbench data build) or fix the task's audio_dir",
                ) from None
            except OSError as exc:
                raise DataError.at(
                    path,
                    None,
                    f"cannot read audio ({exc.strerror})",
                    "check the file's permissions",
                ) from None
            self._cache[path] = digest.hexdigest()[:20]
        return self._cache[path]


def _key(*parts: object) -> str:
    blob = json.dumps([str(p) for p in parts], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def build_requests(
    task: Task,
    condition: Condition,
    template: PromptTemplate,
    hasher: AudioHasher | None = None,
) -> list[ContextRequest]:
    """One request per item of ``task`` under ``condition``."""
    hasher = hasher or AudioHasher()
    requests = []
    for item in task.items:
        audio_hash = ""
        context_audio = None
        if condition.context_is_speech:
            if item.context_audio is None:
                raise DataError.at(
                    task.source,
                    item.meta.get("line"),
                    f"item {item.id} of task '{task.name}' has no context audio",
                    f"condition {condition} needs audio: give the task an audio_dir",
                )
            context_audio = item.context_audio
            audio_hash = hasher(context_audio, task.name, item.id)
        cont_audio = None
        if condition.continuation_is_speech:
            if item.continuation_audio is None:
                raise DataError.at(
                    task.source,
                    item.meta.get("line"),
                    f"item {item.id} of task '{task.name}' has no spoken continuations",
                    f"condition {condition} needs them: build the set with --speak all",
                )
            cont_audio = item.continuation_audio
            audio_hash += "|" + ",".join(hasher(p, task.name, item.id) for p in cont_audio)
        requests.append(
            ContextRequest(
                task=task.name,
                item_id=item.id,
                condition=condition,
                lang=item.lang,
                prefix=template.prefix_for(item.lang, condition.context_is_speech),
                context_text=None if condition.context_is_speech else item.context_text,
                context_audio=context_audio,
                joiner=template.joiner_for(item.lang),
                continuations=item.continuations,
                continuation_audio=cont_audio,
                gold=item.gold,
                key=_key(
                    task.name,
                    task.version,
                    condition.value,
                    template.fingerprint(),
                    item.content_hash(),
                    audio_hash,
                ),
            )
        )
    return requests
