"""ASR throughput of the cascades: seconds of compute per second of audio, cold.

On the spoken contexts of a built-in task (rendered once with espeak-ng into
``$S2SBENCH_CACHE``), each backend transcribes every file once through
``transcribe_many``, as a cascade does in a run:

* ``sphinx``: pocketsphinx, one process (``workers=1``) and a pool of one process per
  core, each run with an empty transcript cache (a cold first run);
* ``hf-whisper``: a transformers Whisper folder (``--whisper DIR``), one file per
  ``generate`` and batches of ``--asr-batch-size``.

Printed per backend: files, audio seconds, wall seconds, CPU seconds of this process and
its worker processes, and both per audio second.

    python benchmarks/bench_asr.py [--task sample_story_en] [--whisper DIR] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def spoken_contexts(task_name: str, items: int | None = None) -> tuple[list[Path], str]:
    """The context audio files of the task's first ``items`` items (rendered if needed) and
    its language."""
    from s2sbench.tasks.registry import BUILTIN_TASKS
    from s2sbench.tasks.sample_audio import ensure_sample_audio

    spec = BUILTIN_TASKS[task_name]
    task = ensure_sample_audio(spec).load().limited(items)
    files = list(dict.fromkeys(Path(i.context_audio) for i in task.items if i.context_audio))
    return files, spec.lang


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(run: Callable[[], dict[Path, str]], audio: float) -> dict[str, Any]:
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    texts = run()
    wall, cpu = time.perf_counter() - start_wall, cpu_seconds() - start_cpu
    words = sum(len(t.split()) for t in texts.values())
    return {
        "wall": wall,
        "cpu": cpu,
        "wall_per_s": wall / audio,
        "cpu_per_s": cpu / audio,
        "words": words,
    }


def sphinx_runs(files: list[Path], lang: str) -> dict[str, Callable[[], dict[Path, str]]]:
    from s2sbench.core.cpu import available_cores
    from s2sbench.models.sphinx_asr import SphinxTranscriber
    from s2sbench.models.sphinx_decoder import decoder_config

    config = decoder_config()

    def cold(workers: int) -> Callable[[], dict[Path, str]]:
        def run() -> dict[Path, str]:
            with tempfile.TemporaryDirectory(prefix="bench_asr_") as cache:
                return SphinxTranscriber(config, workers, Path(cache)).transcribe_many(files)

        return run

    cores = available_cores()
    return {"sphinx, 1 process": cold(1), f"sphinx, {cores} processes": cold(cores)}


def whisper_runs(
    path: str, files: list[Path], lang: str, batch: int
) -> dict[str, Callable[[], dict[Path, str]]]:
    from s2sbench.models.hf_whisper_asr import HFWhisperASR

    def with_batch(size: int) -> Callable[[], dict[Path, str]]:
        asr = HFWhisperASR(path, dtype="float32", batch_size=size, long_audio="chunk")
        return lambda: asr.transcribe_many(files, lang)

    return {"hf-whisper, batch 1": with_batch(1), f"hf-whisper, batch {batch}": with_batch(batch)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="sample_story_en")
    parser.add_argument(
        "--items", type=int, default=46, help="first N items (README: 46, suite version 1's size)"
    )
    parser.add_argument("--whisper", help="a transformers Whisper folder (hf-cascade's ASR)")
    parser.add_argument("--asr-batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args(argv)

    from s2sbench.models.asr_backend import audio_seconds

    files, lang = spoken_contexts(args.task, args.items)
    audio = sum(audio_seconds(f) for f in files)
    load = os.getloadavg()[0]
    print(f"{args.task}: {len(files)} files, {audio:.1f} s of audio, language {lang}, ", end="")
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs", flush=True)
    runs = sphinx_runs(files, lang) if lang == "en" else {}
    if args.whisper:
        import torch

        torch.set_num_threads(args.threads)
        runs.update(whisper_runs(args.whisper, files, lang, args.asr_batch_size))
    else:
        print("hf-whisper left out: no --whisper DIR (a transformers Whisper folder)")
    print("\n| backend | wall s | CPU s | wall s per audio s | CPU s per audio s | words |")
    print("|---|---|---|---|---|---|")
    for name, run in runs.items():
        row = timed(run, audio)
        cells = (row["wall"], row["cpu"], row["wall_per_s"], row["cpu_per_s"])
        print(
            f"| {name} | {cells[0]:.1f} | {cells[1]:.1f} | {cells[2]:.3f} | {cells[3]:.3f} ", end=""
        )
        print(f"| {row['words']} |", flush=True)


if __name__ == "__main__":
    main()
