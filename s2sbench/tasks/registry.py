"""Task registry: built-in samples, the paper's tasks under ``--data-dir``, YAML tasks.

A :class:`TaskSpec` says where a task's files are; ``load()`` reads and
validates them. Resolving a name never reads data, so ``s2sbench tasks`` and
argument errors are instant.
"""

from __future__ import annotations

from pathlib import Path

from s2sbench.core.errors import ConfigError
from s2sbench.data.task_spec import TaskSpec, load_task_yaml

SAMPLES_DIR = Path(__file__).parent / "samples"


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
