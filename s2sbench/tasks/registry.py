"""Task registry: built-in samples, the paper's tasks under ``--data-dir``, YAML tasks.

A :class:`TaskSpec` says where a task's files are; ``load()`` reads and
validates them. Resolving a name never reads data, so ``s2sbench tasks`` and
argument errors are instant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from s2sbench.data.layout import attach_continuation_audio
from s2sbench.data.reference import read_items
from s2sbench.errors import ConfigError, DataError
from s2sbench.tasks.item import LANGUAGES, Task
from s2sbench.tasks.task_file import check_task_name, load_yaml_mapping

SAMPLES_DIR = Path(__file__).parent / "samples"


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


# 2: 170 English stories, 170 Chinese stories, 176 sCMMLU statements over 16 subjects
# (version 1 had 46, 46 and 80).
SAMPLE_SUITE_VERSION = "2"

BUILTIN_TASKS: dict[str, TaskSpec] = {
    "sample_story_en": TaskSpec(
        "sample_story_en",
        "story",
        "en",
        SAMPLES_DIR / "sample_story_en.jsonl",
        version=SAMPLE_SUITE_VERSION,
        description="Built-in English five-sentence stories, right vs wrong ending.",
        builtin=True,
    ),
    "sample_story_zh": TaskSpec(
        "sample_story_zh",
        "story",
        "zh",
        SAMPLES_DIR / "sample_story_zh.jsonl",
        version=SAMPLE_SUITE_VERSION,
        description="Built-in Chinese five-sentence stories, right vs wrong ending.",
        builtin=True,
    ),
    "sample_cmmlu": TaskSpec(
        "sample_cmmlu",
        "choice",
        "zh",
        SAMPLES_DIR / "sample_cmmlu.jsonl",
        version=SAMPLE_SUITE_VERSION,
        description="Built-in Chinese knowledge statements, 1 right + 3 wrong continuations.",
        builtin=True,
    ),
}

# The paper's tasks, relative to --data-dir: (kind, lang, jsonl, audio dir).
PAPER_TASKS: dict[str, tuple[str, str, str, str]] = {
    "sstorycloze": (
        "story",
        "en",
        "S2S/StoryCloze/sStory_s2t.jsonl",
        "S2S/StoryCloze/s-story-firstspeech",
    ),
    "zh_sstorycloze": ("story", "zh", "S2S/StoryCloze/zh_story.jsonl", "S2S/StoryCloze/zh_story"),
    "scmmlu": ("choice", "zh", "S2S/cmmlu/cmmlu_rewrite_4.jsonl", "S2S/cmmlu/cmmlu_rewrite"),
}

SAMPLE_SUITE = tuple(BUILTIN_TASKS)


def paper_task(name: str, data_dir: Path | None) -> TaskSpec:
    kind, lang, jsonl, audio = PAPER_TASKS[name]
    if data_dir is None:
        raise ConfigError(
            f"task '{name}' needs the S2SBench data",
            hint=f"pass --data-dir ROOT where ROOT/{jsonl} exists",
        )
    root = Path(data_dir)
    return TaskSpec(name, kind, lang, root / jsonl, root / audio, description=f"S2SBench {name}")


def load_task_yaml(path: Path) -> TaskSpec:
    """Read a custom task: ``name, kind (story|choice), language, jsonl, audio_dir, version``.

    Relative paths are taken from the YAML file's folder. Loaded by the
    bounded safe loader of :mod:`s2sbench.tasks.task_file`: a task file can
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


def resolve_task(name: str, data_dir: Path | None = None) -> TaskSpec:
    """A task name (built-in or paper) or a path to a task YAML -> its spec."""
    if name in BUILTIN_TASKS:
        return BUILTIN_TASKS[name]
    if name in PAPER_TASKS:
        return paper_task(name, data_dir)
    if name.endswith((".yaml", ".yml")):
        if not Path(name).exists():  # anything else that is not a regular file: the loader says
            raise ConfigError(f"task file '{name}' not found", hint="check the --tasks path")
        return load_task_yaml(Path(name))
    known = ", ".join([*BUILTIN_TASKS, *PAPER_TASKS])
    raise ConfigError(
        f"unknown task '{name}'", hint=f"known tasks: {known}; or give a path to a task .yaml"
    )


def resolve_tasks(names: list[str] | str, data_dir: Path | None = None) -> list[TaskSpec]:
    """Resolve a list (or comma-separated string) of task names; ``sample`` = the sample suite."""
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    expanded: list[str] = []
    for name in (n.strip() for n in names):
        expanded.extend(SAMPLE_SUITE if name in ("sample", "samples") else [name])
    specs = [resolve_task(n, data_dir) for n in expanded]
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(
                f"task '{spec.name}' is given twice", hint="give each task once in --tasks"
            )
        seen.add(spec.name)
    return specs


def list_tasks(data_dir: Path | None = None) -> list[TaskSpec]:
    """Every built-in task, plus the paper's tasks (their files may be missing)."""
    specs = list(BUILTIN_TASKS.values())
    for name in PAPER_TASKS:
        specs.append(paper_task(name, data_dir or Path("<data-dir>")))
    return specs
