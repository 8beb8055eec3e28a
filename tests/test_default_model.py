"""The default model's wiring, without weights: what ``s2sbench run`` picks, the one-line
error when the extras are missing, the ASR runtime ``asr=`` selects, the encoder window,
and the score cache that makes a repeat of the default run fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from s2sbench.cli.main import main
from s2sbench.core.errors import ConfigError
from s2sbench.models import default_model
from s2sbench.models.asr_choice import choose_backend, is_ct2_whisper_dir
from s2sbench.models.default_model import DEFAULT_MODEL, DEFAULT_MODEL_ARGS, resolve_model
from s2sbench.models.whisper_ct2_decoding import WINDOW_FRAMES, DecodingOptions
from s2sbench.models.whisper_ct2_folder import model_languages
from s2sbench.reports.result_metrics import parse_metrics
from s2sbench.reports.table import results_table

ROOT = Path(__file__).resolve().parents[1]


def test_no_model_means_the_bundled_cascade(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(default_model, "missing_for_default", lambda: [])
    assert resolve_model(None, None) == (DEFAULT_MODEL, DEFAULT_MODEL_ARGS)
    assert resolve_model("ngram", "") == ("ngram", "")
    with pytest.raises(ConfigError, match="--model-args needs --model"):
        resolve_model(None, "pretrained=x")


def test_missing_extra_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        default_model, "REQUIRED", (*default_model.REQUIRED, ("no_such_mod_x", "no-such-dist"))
    )
    with pytest.raises(ConfigError) as err:
        resolve_model(None, None)
    assert "no-such-dist" in str(err.value)
    assert "pip install 's2sbench[hf,weights]'" in err.value.hint  # type: ignore[operator]


def test_cli_without_the_extra_prints_one_line_and_fails(tmp_path: Path) -> None:
    """A fresh install without ``[hf,weights]``: ``s2sbench run`` says what to install."""
    code = (
        "import sys; sys.modules['faster_whisper'] = None\n"  # as if it were not installed
        "from s2sbench.cli.main import main\n"
        "raise SystemExit(main(['run', '--no-progress']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "S2SBENCH_CACHE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "faster-whisper" in lines[0] and "pip install 's2sbench[hf,weights]'" in lines[0]
    assert "--model sphinx" in lines[0]
    assert not (tmp_path / "scores").exists()  # refused before anything was written


def ct2_folder(root: Path, *, multilingual: bool, extra: tuple[str, ...] = ()) -> Path:
    root.mkdir(parents=True)
    (root / "model.bin").write_bytes(b"\0")
    lang_ids = [50259, 50260] if multilingual else []
    (root / "config.json").write_text(json.dumps({"lang_ids": lang_ids}))
    tokens = ["<|endoftext|>", "<|en|>", "<|zh|>", "<|nocaptions|>", "<|transcribe|>"]
    (root / "tokenizer.json").write_text(
        json.dumps({"added_tokens": [{"content": t} for t in tokens]})
    )
    for name in extra:
        (root / name).write_bytes(b"\0")
    return root


def test_asr_runtime_follows_the_folder(tmp_path: Path) -> None:
    ct2 = ct2_folder(tmp_path / "ct2", multilingual=True)
    both = ct2_folder(tmp_path / "both", multilingual=True, extra=("model.safetensors",))
    assert is_ct2_whisper_dir(ct2) and not is_ct2_whisper_dir(both)
    assert choose_backend("bundled:whisper-base") == "faster-whisper"
    assert choose_backend(str(ct2)) == "faster-whisper"
    assert choose_backend(str(both)) == "transformers"
    assert choose_backend(str(both), "faster-whisper") == "faster-whisper"
    assert choose_backend("openai/whisper-tiny") == "transformers"
    with pytest.raises(ConfigError, match="no bundled speech recogniser"):
        choose_backend("bundled:whisper-large")
    with pytest.raises(ConfigError, match="asr_backend must be one of"):
        choose_backend(str(ct2), "onnx")


def test_languages_are_read_from_the_folder_without_loading(tmp_path: Path) -> None:
    from s2sbench.models.whisper_ct2 import WhisperCT2ASR

    multi = WhisperCT2ASR(ct2_folder(tmp_path / "multi", multilingual=True))
    english = WhisperCT2ASR(ct2_folder(tmp_path / "en", multilingual=False))
    assert model_languages(multi.model_dir) == (True, frozenset({"en", "zh"}))
    assert multi.unsupported_reason("zh") is None
    assert "no language 'fr'" in str(multi.unsupported_reason("fr"))
    assert english.unsupported_reason("en") is None
    assert "English-only" in str(english.unsupported_reason("zh"))
    assert multi._model is None and english._model is None  # nothing was loaded


def test_fit_window_pads_to_the_next_step_only() -> None:
    full, fit = DecodingOptions(), DecodingOptions(encoder_window="fit")
    assert full.frames(3.0) == full.frames(29.0) == WINDOW_FRAMES
    assert fit.frames(0.4) == 500 and fit.frames(4.98) == 500 and fit.frames(5.0) == 1000
    assert fit.frames(11.2) == 1500 and fit.frames(30.0) == WINDOW_FRAMES
    assert all(fit.frames(s / 10) % 2 == 0 for s in range(301))  # the encoder halves frames
    assert DecodingOptions(encoder_window="fit", fit_step_seconds=10).frames(11.2) == 2000
    assert full.to_dict() != fit.to_dict()  # a different cache key for its transcripts
    with pytest.raises(ValueError, match="encoder_window"):
        DecodingOptions(encoder_window="short")


def test_results_table_shows_error_rate_and_empty_transcripts() -> None:
    from rich.console import Console

    metrics: dict[str, Any] = {
        "n": 4,
        "acc": 0.5,
        "mean_right_loss": 1.0,
        "mean_wrong_loss": 2.0,
        "acc_argmax": 0.5,
    }
    results = {
        "zh": {
            "s2t": {**metrics, "asr_error_rate": 0.72, "asr_unit": "char", "empty_transcripts": 1}
        },
        "en": {
            "s2t": {**metrics, "asr_error_rate": 0.05, "asr_unit": "word", "empty_transcripts": 0}
        },
    }
    console = Console(width=200, record=True)
    console.print(results_table(parse_metrics(results)))
    text = console.export_text()
    assert "CER 72.0, 1 empty" in text and "WER 5.0" in text and "WER 5.0," not in text


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["run", "--no-progress", *args])
    return code, capsys.readouterr().out


def test_use_cache_reads_scores_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    args = ["--model", "ngram", "--tasks", "sample_story_en", "--conditions", "t2t"]
    args += ["--limit", "4", "--use-cache", str(cache)]
    code, first = run_cli(args, capsys)
    assert code == 0 and "(0 read back this run" in first
    code, second = run_cli(args, capsys)
    assert code == 0 and "(4 read back this run" in second
    table = [line for line in first.splitlines() if "sample_story_en" in line]
    assert table == [line for line in second.splitlines() if "sample_story_en" in line]
    code = main([*["run", "--no-progress"], *args, "--output-path", str(tmp_path / "out")])
    assert code == 2  # two stores named at once
    assert "both name a score store" in capsys.readouterr().err


def test_only_the_default_run_caches_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []

    def fake_evaluate(**kwargs: Any) -> Any:
        seen.append(kwargs["config"].use_cache)  # the CLI hands evaluate one RunConfig
        raise ConfigError("stop here")

    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path))
    monkeypatch.setattr("s2sbench.evaluator.evaluate", fake_evaluate)
    for extra in ([], ["--no-cache"], ["--model", "ngram"], ["--output-path", str(tmp_path / "o")]):
        assert main(["run", "--no-progress", *extra]) == 2
    assert seen == [str(tmp_path / "scores"), None, None, None]


def test_asr_line_says_what_came_from_the_transcript_cache() -> None:
    from s2sbench.reports.table import asr_summary_line

    asr = {"files_transcribed": 6, "audio_seconds": 54.2, "wall_seconds": 0.04}
    assert asr_summary_line({}) is None
    assert asr_summary_line({"model_runtime": {"asr": {**asr, "files_transcribed": 0}}}) is None
    plain = asr_summary_line({"model_runtime": {"asr": asr}})
    assert plain == "ASR: 6 files, 54 s of audio transcribed in 0.0 s"
    cached = {**asr, "read_from_transcript_cache": 6}
    line = asr_summary_line({"model_runtime": {"asr": cached}})
    assert (
        line
        == "ASR: 6 files, 54 s of audio (6 read from the transcript cache) transcribed in 0.0 s"
    )
