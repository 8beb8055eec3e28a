"""``data build``: text items in, a spoken S2SBench dataset out.

The build is a pure function of (source rows, TTS identity, sample rate,
loudness target, what is spoken): every file depends on its text only, so the
work can be spread over processes in any order, a rerun skips files that
already exist, and an interrupted build finishes with the same bytes and the
same manifest as an uninterrupted one. Files are written under a temporary
name and renamed, so an existing file is always a whole one. A folder holding
a *different* dataset is never overwritten unless ``overwrite=True``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2sbench.core.atomic_write import write_atomic_bytes
from s2sbench.core.errors import ConfigError, DataError
from s2sbench.core.file_hashes import hash_file
from s2sbench.data.importers import import_source
from s2sbench.data.layout import (
    AUDIO_DIR,
    JSONL_NAME,
    TASK_YAML,
    clear_dataset,
    context_wav_name,
    continuation_wav_name,
    read_manifest,
    remove_partials,
    rows_to_jsonl,
    task_yaml_text,
)
from s2sbench.data.manifest import compute_manifest, write_manifest
from s2sbench.data.reference import CHOICE_LETTERS, read_items
from s2sbench.data.render import DEFAULT_LOUDNESS_DBFS, render_wav
from s2sbench.data.tts import get_tts

PLAN_NAME = ".build.json"


@dataclass
class BuildResult:
    """The built folder, its manifest, and how many audio files were written vs kept."""

    out: Path
    manifest: dict[str, Any]
    synthesized: int
    reused: int


@dataclass
class _Job:
    """One text to speak and every file (relative path) that holds it."""

    text: str
    dests: list[str] = field(default_factory=list)


# --- worker side: one backend per process, built once -------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(
    tts: str,
    voice: str | None,
    tts_args: dict[str, Any],
    lang: str,
    sample_rate: int,
    loudness: float,
) -> None:
    from s2sbench.core.progress import show_progress

    with show_progress(False):  # the parent's bar counts the texts; workers load silently
        backend = get_tts(tts, voice, **tts_args)
    _WORKER.update(
        backend=backend,
        lang=lang,
        sample_rate=sample_rate,
        loudness=loudness,
    )


def _synth(job: _Job) -> tuple[_Job, bytes]:
    try:
        samples, rate = _WORKER["backend"].synthesize(job.text, _WORKER["lang"])
        return job, render_wav(samples, rate, _WORKER["sample_rate"], _WORKER["loudness"])
    except DataError as exc:
        raise DataError(
            f"{exc.what} for {job.dests[0]} (text {job.text[:50]!r})", hint=exc.hint
        ) from None


# --- planning --------------------------------------------------------------------------------
def plan_jobs(rows: list[dict[str, Any]], kind: str, speak: str) -> list[_Job]:
    """The texts to speak, deduplicated, in a fixed order (contexts, then continuations)."""
    jobs: dict[str, _Job] = {}

    def add(text: str, rel: str) -> None:
        jobs.setdefault(text, _Job(text)).dests.append(rel)

    for row in rows:
        add(row["first"], f"{AUDIO_DIR}/{context_wav_name(row['uttid'])}")
    if speak == "all":
        if kind == "story":
            for k in range(0, len(rows), 2):
                item_id = rows[k]["uttid"]
                for index, row in enumerate(rows[k : k + 2]):
                    add(row["last"], f"{AUDIO_DIR}/{continuation_wav_name(item_id, index)}")
        else:
            for row in rows:
                for index, letter in enumerate(CHOICE_LETTERS):
                    add(row[letter], f"{AUDIO_DIR}/{continuation_wav_name(row['uttid'], index)}")
    return list(jobs.values())


def _check_out_dir(out: Path, build: dict[str, Any], overwrite: bool) -> None:
    """Allow an empty folder or one holding this very build; else refuse or clear it."""
    if not out.exists() or not any(out.iterdir()):
        return
    previous = read_manifest(out)
    recorded = previous.get("build") if previous else None
    if recorded is None and (out / PLAN_NAME).is_file():
        try:
            recorded = json.loads((out / PLAN_NAME).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            recorded = None
    if recorded == build:
        return
    if not overwrite:
        differs = ["no s2sbench manifest"]
        if recorded:
            differs = sorted(k for k in {*build, *recorded} if recorded.get(k) != build.get(k))
        what = f"holds a different dataset (differs in: {', '.join(differs)})"
        raise DataError.at(
            out, None, what, "choose another --out, or pass --overwrite to replace it"
        )
    clear_dataset(out, extra=(PLAN_NAME,))


def build_dataset(
    source: Path,
    out: Path,
    *,
    kind: str,
    lang: str,
    tts: str = "espeak",
    voice: str | None = None,
    tts_args: dict[str, Any] | None = None,
    sample_rate: int = 16000,
    speak: str = "context",
    jobs: int | None = None,
    name: str | None = None,
    subject: str | None = None,
    fmt: str = "auto",
    overwrite: bool = False,
    loudness_dbfs: float = DEFAULT_LOUDNESS_DBFS,
    progress: bool = True,
    on_file: Callable[[Path], None] | None = None,
) -> BuildResult:
    """Build (or finish building) the spoken dataset of ``source`` in ``out``.

    ``on_file`` is called after each audio file is in place (progress hooks,
    and tests that interrupt a build half-way).
    """
    if kind not in ("story", "choice"):
        raise ConfigError(f"unknown kind '{kind}'", hint="use story or choice")
    if speak not in ("context", "all"):
        raise ConfigError(f"--speak {speak!r} must be 'context' or 'all'")
    if sample_rate <= 0:
        raise ConfigError(f"sample rate {sample_rate} must be positive")
    source, out = Path(source), Path(out)
    tts_args = dict(tts_args or {})
    fmt_used, rows = import_source(source, kind, lang, fmt, subject)
    if fmt_used == "jsonl":
        read_items(kind, source, lang)  # story pairs etc., reported with the source's lines
    name = name or out.name
    from s2sbench.core.progress import show_progress

    with show_progress(progress):  # an HF TTS model's loading
        backend = get_tts(tts, voice, **tts_args)
    build = {
        "kind": kind,
        "language": lang,
        "source": {"file": source.name, "sha256": hash_file(source), "format": fmt_used},
        "tts": backend.info(),
        "sample_rate": sample_rate,
        "loudness_dbfs": loudness_dbfs,
        "speak": speak,
        "subject": subject,
    }
    build = json.loads(json.dumps(build))  # plain JSON types, so it compares with a reread
    _check_out_dir(out, build, overwrite)
    (out / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    remove_partials(out / AUDIO_DIR)
    write_atomic_bytes(out / PLAN_NAME, json.dumps(build).encode("utf-8"))
    write_atomic_bytes(out / JSONL_NAME, rows_to_jsonl(rows))
    description = f"Spoken {kind} set built from {source.name} with {tts}"
    write_atomic_bytes(out / TASK_YAML, task_yaml_text(name, kind, lang, description).encode())
    read_items(kind, out / JSONL_NAME, lang)  # the output must read back: fail before the audio

    all_jobs = plan_jobs(rows, kind, speak)
    pending = [j for j in all_jobs if not all((out / d).is_file() for d in j.dests)]
    reused = sum((out / d).is_file() for j in all_jobs for d in j.dests)
    synthesized = _run_jobs(
        pending,
        out,
        tts,
        voice,
        tts_args,
        lang,
        sample_rate,
        loudness_dbfs,
        jobs,
        progress,
        on_file,
        backend,
    )
    manifest = compute_manifest(out, name=name, kind=kind, lang=lang, rows=rows, build=build)
    write_manifest(out, manifest)
    (out / PLAN_NAME).unlink(missing_ok=True)
    return BuildResult(out, manifest, synthesized, reused)


def _run_jobs(
    pending: list[_Job],
    out: Path,
    tts: str,
    voice: str | None,
    tts_args: dict[str, Any],
    lang: str,
    sample_rate: int,
    loudness: float,
    jobs: int | None,
    progress: bool,
    on_file: Callable[[Path], None] | None,
    backend: Any,
) -> int:
    """Speak ``pending`` on ``jobs`` processes (inline for one), writing files as they come.

    Workers are spawned (not forked: torch and the espeak library hold threads
    and global state). Where spawning cannot work (a script read from stdin),
    the pool breaks and the remaining texts are spoken in this process.
    """
    from s2sbench.core.progress import Progress

    workers = max(1, min(jobs or os.cpu_count() or 1, len(pending)))
    state = {"written": 0}
    done: set[int] = set()
    bar = Progress("synthesising", len(pending), "text", enabled=progress)

    def store(index: int, job: _Job, wav: bytes) -> None:
        for rel in job.dests:
            if not (out / rel).is_file():
                write_atomic_bytes(out / rel, wav)
                state["written"] += 1
                if on_file is not None:
                    on_file(out / rel)
        done.add(index)
        bar.update(1)

    try:
        if workers > 1:
            init = (tts, voice, tts_args, lang, sample_rate, loudness)
            context = multiprocessing.get_context("spawn")
            try:
                with ProcessPoolExecutor(workers, context, _init_worker, init) as pool:
                    futures = {pool.submit(_synth, job): i for i, job in enumerate(pending)}
                    for future in as_completed(futures):
                        store(futures[future], *future.result())
            except BrokenProcessPool as exc:
                warnings.warn(
                    f"parallel synthesis failed ({exc}); continuing in one process",
                    RuntimeWarning,
                    stacklevel=2,
                )
        _WORKER.update(backend=backend, lang=lang, sample_rate=sample_rate, loudness=loudness)
        for index, job in enumerate(pending):
            if index not in done:
                store(index, *_synth(job))
    finally:
        bar.close()
        _WORKER.clear()
    return state["written"]
