"""Progress of long steps: periodic lines without a TTY, a bar with one, nothing when off.

The in-process tests shorten the line interval (``s2sbench.core.progress.INTERVAL_S``) and make a
step slow on purpose; the CLI tests run a real tiny-model evaluation in a subprocess, whose
stderr is a pipe (not a TTY), and read everything it printed.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import s2sbench.core.progress as progress_module
from s2sbench.core.progress import Progress, show_progress, stage

REPO = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^s2sbench: slow step: (\d+)/6 item \(\d+%\) \[")


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def fast_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "INTERVAL_S", 0.05)


def slow_step(stream: Any, **kwargs: Any) -> None:
    with Progress("slow step", 6, "item", stream=stream, **kwargs) as bar:
        for _ in range(6):
            time.sleep(0.04)
            bar.update(1)


def test_without_a_tty_a_slow_step_prints_periodic_lines_and_a_final_line(fast_lines) -> None:
    log = io.StringIO()
    slow_step(log)
    lines = log.getvalue().splitlines()
    periodic = [line for line in lines if LINE.match(line)]
    assert len(periodic) >= 2  # 0.24 s at one line per 0.05 s
    counts = [int(LINE.match(line).group(1)) for line in periodic]  # type: ignore[union-attr]
    assert counts == sorted(counts) and counts[-1] >= 2
    assert re.fullmatch(r"s2sbench: slow step: 6/6 item in \d+\.\d s, [\d.]+ item/s", lines[-1])
    assert "\r" not in log.getvalue()  # lines for a log, not a redrawn bar


def test_off_means_nothing_at_all(fast_lines) -> None:
    log = io.StringIO()
    slow_step(log, enabled=False)
    with show_progress(False):
        slow_step(log)  # the run's setting reaches steps that are not told
        with stage("loading a model", stream=log):
            time.sleep(0.1)
    assert log.getvalue() == ""


def test_a_tty_gets_a_bar_and_no_log_lines(fast_lines) -> None:
    screen = TTY()
    slow_step(screen)
    out = screen.getvalue()
    assert "\r" in out and "6/6" in out and "slow step" in out
    assert "s2sbench:" not in out


def test_a_stage_says_it_is_running_and_when_it_is_done(fast_lines) -> None:
    log = io.StringIO()
    with stage("loading tiny", stream=log):
        time.sleep(0.18)
    lines = log.getvalue().splitlines()
    assert any(line.startswith("s2sbench: loading tiny: running [") for line in lines[:-1])
    assert re.fullmatch(r"s2sbench: loading tiny: done in \d+\.\d s", lines[-1])


def test_only_the_innermost_step_prints_periodic_lines(fast_lines) -> None:
    log = io.StringIO()
    with Progress("outer", 2, "ctx", stream=log) as outer:
        slow_step(log)
        outer.update(2)
    lines = log.getvalue().splitlines()
    assert any(LINE.match(line) for line in lines)
    assert not [line for line in lines[:-1] if line.startswith("s2sbench: outer")]
    assert lines[-1].startswith("s2sbench: outer: 2/2 ctx in")


def test_nothing_to_do_says_nothing(fast_lines) -> None:
    log = io.StringIO()
    with Progress("rendering", 0, "ctx", stream=log):
        time.sleep(0.1)
    assert log.getvalue() == ""


class SlowTTS:
    """A TTS that takes its time: enough for periodic lines while rendering."""

    def info(self) -> dict[str, Any]:
        return {"backend": "slow-test", "sample_rate": 16000}

    def synthesize(self, text: str, lang: str) -> tuple[np.ndarray, int]:
        time.sleep(0.01)
        return 0.1 * np.sin(np.linspace(0, 200, 1600)).astype(np.float32), 16000


def test_rendering_reports_progress_and_a_cached_task_stays_quiet(
    fast_lines, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from s2sbench.tasks.registry import BUILTIN_TASKS
    from s2sbench.tasks.sample_audio import render_task_audio

    spec = BUILTIN_TASKS["sample_story_en"]
    render_task_audio(spec, SlowTTS(), tmp_path)  # type: ignore[arg-type]
    err = capsys.readouterr().err.splitlines()
    assert any(re.match(r"s2sbench: rendering sample_story_en audio: \d+/170 ctx", x) for x in err)
    assert err[-1].startswith("s2sbench: rendering sample_story_en audio: 170/170 ctx in")
    render_task_audio(spec, SlowTTS(), tmp_path)  # type: ignore[arg-type]
    assert capsys.readouterr().err == ""


def test_pocketsphinx_transcription_reports_progress(
    fast_lines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from tiny_audio_models import write_wav

    import s2sbench.models.sphinx_asr as sphinx_asr

    def slow_decode(decoder: Any, pcm: bytes) -> str:
        time.sleep(0.04)
        return "words"

    monkeypatch.setattr(sphinx_asr, "decode", slow_decode)
    monkeypatch.setattr(sphinx_asr, "make_decoder", lambda config: None)
    wavs = [write_wav(tmp_path / f"{i}.wav", 0.2, freq=200 + 50 * i, seed=i) for i in range(5)]
    transcriber = sphinx_asr.SphinxTranscriber(workers=1, cache_dir=tmp_path / "cache")
    assert set(transcriber.transcribe_many(wavs).values()) == {"words"}
    err = capsys.readouterr().err.splitlines()
    assert any(re.match(r"s2sbench: transcribing \(pocketsphinx\): \d/5 file", x) for x in err)
    assert err[-1].startswith("s2sbench: transcribing (pocketsphinx): 5/5 file in")
    transcriber.transcribe_many(wavs)  # all cached: no step, no line
    assert capsys.readouterr().err == ""


# --- the CLI on a real tiny model, stderr a pipe


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from tiny_models import make_gpt2

    return make_gpt2(tmp_path_factory.mktemp("gpt2_progress"))


def cli(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "S2SBENCH_CACHE": str(cache)}
    env.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)  # the bars must be silenced by s2sbench
    return subprocess.run(
        [sys.executable, "-m", "s2sbench", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )


def run_args(gpt2_dir: Path) -> list[str]:
    return [
        "run",
        "--model",
        "hf",
        "--model-args",
        f"pretrained={gpt2_dir},dtype=float32",
        "--tasks",
        "sample_story_en",
        "--conditions",
        "t2t",
        "--limit",
        "3",
    ]


def test_run_no_progress_leaves_stderr_empty(gpt2_dir: Path, tmp_path: Path) -> None:
    done = cli(*run_args(gpt2_dir), "--no-progress", cache=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no "Loading weights" bar, no scoring bar, no lines
    assert "sample_story_en" in done.stdout


def test_run_in_a_log_prints_lines_not_library_bars(gpt2_dir: Path, tmp_path: Path) -> None:
    done = cli(*run_args(gpt2_dir), cache=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(re.fullmatch(rf"s2sbench: loading {gpt2_dir.name}: done in \S+ s", x) for x in lines)
    assert lines[-1].startswith("s2sbench: scoring: 3/3 ctx in")
    assert "Loading weights" not in done.stderr and "\r" not in done.stderr


def test_sweep_no_progress_shows_no_loading_bars(gpt2_dir: Path, tmp_path: Path) -> None:
    import shutil

    run = tmp_path / "train"
    shutil.copytree(gpt2_dir, run / "ckpt_0_10_tiny")
    done = cli(
        "sweep",
        "--checkpoints",
        str(run / "ckpt_*"),
        "--model-args",
        "dtype=float32",
        "--tasks",
        "sample_story_en",
        "--conditions",
        "t2t",
        "--limit",
        "3",
        "--output-path",
        str(tmp_path / "sweep"),
        "--no-plots",
        "--no-progress",
        cache=tmp_path / "cache",
    )
    assert done.returncode == 0, done.stderr
    assert "Loading weights" not in done.stderr and "%|" not in done.stderr
    assert "s2sbench: " not in done.stderr  # no progress lines either
    assert done.stderr.splitlines() == ["[1/1] ckpt_0_10_tiny (step 10): evaluating"]


@pytest.mark.parametrize("shown", [True, False])
def test_gguf_conversion_is_a_stage_and_its_tensor_bar_is_quiet(
    shown: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    pytest.importorskip("gguf")
    from tiny_gguf_models import make_qwen2_gguf

    from s2sbench.models.gguf import converted_checkpoint

    path = make_qwen2_gguf(tmp_path / "gguf")
    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))
    capsys.readouterr()
    with show_progress(shown):
        converted_checkpoint(path)
    err = capsys.readouterr().err
    assert "de-quantizing" not in err and "Loading weights" not in err  # library bars quiet
    converting = re.compile(r"^s2sbench: converting tiny\.gguf \(GGUF, once\): done in", re.M)
    assert bool(converting.search(err)) is shown


def test_hf_cascade_counts_the_files_it_transcribes(
    gpt2_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tiny_audio_models import make_whisper, write_wav

    from s2sbench.core.conditions import Condition
    from s2sbench.core.item import Item, Task
    from s2sbench.models.hf_cascade import HFCascade
    from s2sbench.requests.build import build_requests
    from s2sbench.requests.prompts import get_template

    wavs = [write_wav(tmp_path / f"{i}.wav", 0.5, freq=300 + 80 * i, seed=i) for i in range(2)]
    items = tuple(
        Item(str(i), "en", "A context.", ("Yes it is.", "No."), 0, context_audio=wavs[i % 2])
        for i in range(3)  # three contexts, two distinct files
    )
    task = Task("tiny", "story", "en", items)
    cascade = HFCascade(asr=str(make_whisper(tmp_path / "whisper")), lm=str(gpt2_dir))
    capsys.readouterr()
    template = get_template("reference")
    dict(cascade.score(build_requests(task, Condition.S2T, template)))
    err = capsys.readouterr().err.splitlines()
    assert [x for x in err if "transcribing" in x][-1].startswith(
        "s2sbench: transcribing (ASR): 2/2 file in"
    )
    dict(cascade.score(build_requests(task, Condition.NONE, template)))
    assert "transcribing" not in capsys.readouterr().err  # nothing to hear: no step
