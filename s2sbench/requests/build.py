"""Items x conditions -> :class:`ContextRequest`: one context, all its continuations.

Each request carries a model-independent content key built from the task
version, condition, prompt template, item text and audio bytes; the score
store adds the model's identity. Missing audio is found here, before any
model is loaded, and named with its item.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import DataError
from s2sbench.core.item import Item, Task
from s2sbench.requests.prompts import PromptTemplate


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
            from s2sbench.core.regular_files import open_regular
            from s2sbench.data.audio import check_contained, probe_audio

            where = f"{path} (item {item_id} of task '{task}')"
            check_contained(path, Path(path).parent, where)
            if not Path(path).exists():
                raise DataError.at(
                    path,
                    None,
                    f"audio of item {item_id} in task '{task}' not found",
                    "render the audio (s2sbench data build) or fix the task's audio_dir",
                )
            digest = hashlib.sha256()
            try:
                # Opened without blocking and checked to be a regular file first: a FIFO
                # named 2.wav would hang the header probe below forever.
                with open_regular(path, "audio file", "check the file's permissions") as handle:
                    probe_audio(path)
                    for block in iter(lambda: handle.read(1 << 20), b""):  # a long file in blocks
                        digest.update(block)
            except DataError as exc:
                raise DataError(exc.what, where=where, hint=exc.hint) from None
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


def check_context_audio(
    tasks: Sequence[Task], conditions: Sequence[Condition], hasher: AudioHasher
) -> None:
    """Vet every context audio file of ``tasks`` before a model is loaded.

    With a speech-context condition asked for, each file an item names (both
    rows of a story pair: the reference hears row 2k+1 after ``(2k+1).wav``)
    must be a whole, readable audio file inside its folder: a missing or
    corrupt one is one clear error now, not after minutes of model loading.
    Items without audio are left to :func:`build_requests`, which knows
    whether the model will use it.
    """
    if not any(c.context_is_speech for c in conditions):
        return
    for task in tasks:
        for item in task.items:
            for path in dict.fromkeys(_context_paths(item)):
                if path is not None:
                    hasher(path, task.name, item.id)


def _context_paths(item: Item) -> tuple[Path | None, ...]:
    return tuple(item.context_audio_for(i) for i in range(len(item.continuations)))


def _audio_groups(
    item: Item, task: Task, condition: Condition, hasher: AudioHasher
) -> list[tuple[Path | None, str, tuple[int, ...]]]:
    """``(context audio, its hash, continuation indices)`` per distinct spoken context.

    Continuations whose context files have the same content share one group
    (one request, the context encoded once); a story pair whose two wavs
    differ becomes two groups, each scored after its own audio.
    """
    everything = tuple(range(len(item.continuations)))
    if not condition.context_is_speech:
        return [(None, "", everything)]
    paths = _context_paths(item)
    if any(p is None for p in paths):
        raise DataError.at(
            task.source,
            item.meta.get("line"),
            f"item {item.id} of task '{task.name}' has no context audio",
            f"condition {condition} needs audio: give the task an audio_dir",
        )
    groups: dict[str, tuple[Path, list[int]]] = {}
    for index, path in enumerate(paths):
        digest = hasher(path, task.name, item.id)  # type: ignore[arg-type]
        groups.setdefault(digest, (path, []))[1].append(index)  # type: ignore[arg-type]
    return [(path, digest, tuple(indices)) for digest, (path, indices) in groups.items()]


def _context_text(item: Item, condition: Condition) -> str | None:
    """The text context: None when it is heard, empty for the context-free ``none``."""
    if condition.context_is_speech:
        return None
    return item.context_text if condition.has_context else ""


def build_requests(
    task: Task,
    condition: Condition,
    template: PromptTemplate,
    hasher: AudioHasher | None = None,
) -> list[ContextRequest]:
    """One request per item of ``task`` under ``condition`` (per distinct spoken context).

    An item whose continuations hear different context audio (a story pair
    with two different wavs) gives one request per distinct audio, each
    carrying ``part``, the indices of its continuations in the item; the
    metrics put the item back together (:mod:`s2sbench.scores.item_records`).
    The usual item, one context for all, keeps ``part=None`` and the same key
    as ever, so existing score stores still resume.
    """
    hasher = hasher or AudioHasher()
    requests = []
    for item in task.items:
        groups = _audio_groups(item, task, condition, hasher)
        whole = len(groups) == 1
        for context_audio, audio_hash, part in groups:
            cont_audio = None
            if condition.continuation_is_speech:
                if item.continuation_audio is None:
                    raise DataError.at(
                        task.source,
                        item.meta.get("line"),
                        f"item {item.id} of task '{task.name}' has no spoken continuations",
                        f"condition {condition} needs them: build the set with --speak all",
                    )
                cont_audio = tuple(item.continuation_audio[i] for i in part)
                audio_hash += "|" + ",".join(hasher(p, task.name, item.id) for p in cont_audio)
            key_parts: list[object] = [
                task.name,
                task.version,
                condition.value,
                template.fingerprint(),
                item.content_hash(),
                audio_hash,
            ]
            if not whole:
                key_parts.append(f"part={','.join(map(str, part))}")
            requests.append(
                ContextRequest(
                    task=task.name,
                    item_id=item.id,
                    condition=condition,
                    lang=item.lang,
                    prefix=template.prefix_for(item.lang, condition),
                    context_text=_context_text(item, condition),
                    context_audio=context_audio,
                    joiner=template.joiner_for(item.lang, condition),
                    continuations=tuple(item.continuations[i] for i in part),
                    continuation_audio=cont_audio,
                    gold=item.gold,
                    key=_key(*key_parts),
                    part=None if whole else part,
                )
            )
    return requests
