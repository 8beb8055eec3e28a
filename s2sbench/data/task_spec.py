"""Where a task's files are (:class:`TaskSpec`), and reading a task YAML into one.

A spec says where a task's JSONL and audio are; ``load()`` reads and validates
them into a :class:`~s2sbench.core.item.Task`. It belongs to the data stage,
which knows the layouts on disk: the task registry names specs, and ``data
validate``/``info`` find a dataset folder's spec through :func:`load_task_yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from s2sbench.core.errors import DataError
from s2sbench.core.item import LANGUAGES, Task
from s2sbench.data.layout import attach_continuation_audio
from s2sbench.data.reference import read_items
from s2sbench.data.task_file import check_task_name, load_yaml_mapping


@dataclass(frozen=True)
class TaskSpec:
    """Where a task lives and how to read it."""

    name: str
    kind: str
    lang: str
    jsonl: Path
    audio_dir: Path | None = None
    version: str = "1"
    description: str = ""
    builtin: bool = False

    def load(self) -> Task:
        items = read_items(self.kind, self.jsonl, self.lang, self.audio_dir)
        if self.audio_dir is not None:
            items = attach_continuation_audio(items, self.audio_dir)
        return Task(
            name=self.name,
            kind=self.kind,  # type: ignore[arg-type]
            lang=self.lang,
            items=tuple(items),
            version=self.version,
            source=str(self.jsonl),
            description=self.description,
        )

    def with_audio_dir(self, audio_dir: Path) -> TaskSpec:
        return replace(self, audio_dir=audio_dir)


def load_task_yaml(path: Path) -> TaskSpec:
    """Read a custom task: ``name, kind (story|choice), language, jsonl, audio_dir, version``.

    Relative paths are taken from the YAML file's folder. Loaded by the
    bounded safe loader of :mod:`s2sbench.data.task_file`: a task file can
    never run code, expand an alias bomb, or hide a duplicate key.
    """
    path = Path(path)
    spec = load_yaml_mapping(path)
    for key in ("kind", "language", "jsonl"):
        if key not in spec:
            raise DataError.at(path, None, f"missing key '{key}'", "see docs/tasks.md")
    if spec["kind"] not in ("story", "choice"):
        raise DataError.at(
            path, None, f"kind {spec['kind']!r} must be 'story' or 'choice'", "fix 'kind'"
        )
    if spec["language"] not in LANGUAGES:
        raise DataError.at(
            path,
            None,
            f"language {spec['language']!r} must be one of {LANGUAGES}",
            "fix 'language'",
        )
    base = path.parent
    audio = spec.get("audio_dir")
    name = check_task_name(str(spec.get("name") or path.stem), str(path))
    return TaskSpec(
        name=name,
        kind=spec["kind"],
        lang=spec["language"],
        jsonl=(base / str(spec["jsonl"])),
        audio_dir=(base / str(audio)) if audio else None,
        version=str(spec.get("version", "1")),
        description=str(spec.get("description", "")),
    )
