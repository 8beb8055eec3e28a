"""``s2sbench data info``: the printed lines, as a user reads them.

Voices print as names (not a Python dict), the sample rate is the files' own (read from
their headers, not the TTS's native 22,050 Hz), and a story pair's two identical context
files are one spoken context, timed once.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from s2sbench.cli.main import main
from s2sbench.data.info import rates_text, voice_text

STORIES = [
    {"uttid": 0, "first": "Tom had a dog. It was old.", "last": "He loved it."},
    {"uttid": 1, "first": "Tom had a dog. It was old.", "last": "He ate the moon."},
    {"uttid": 2, "first": "Ann baked bread. It smelled good.", "last": "She shared it."},
    {"uttid": 3, "first": "Ann baked bread. It smelled good.", "last": "She flew away."},
]


def build(tmp_path: Path, *extra: str) -> Path:
    source = tmp_path / "stories.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in STORIES), encoding="utf-8")
    out = tmp_path / "set"
    args = ["data", "build", str(source), "--kind", "story", "--lang", "en", "--out", str(out)]
    assert main([*args, "--jobs", "1", "--no-progress", *extra]) == 0
    return out


def info_lines(root: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["data", "info", str(root)]) == 0
    return capsys.readouterr().out.splitlines()


def test_info_prints_voice_names_the_files_rate_and_each_context_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = build(tmp_path, "--speak", "all")
    tts = json.loads((root / "manifest.json").read_text())["build"]["tts"]
    assert isinstance(tts["voice"], dict) and tts["sample_rate"] == 22050  # what was confusing
    lines = info_lines(root, capsys)
    assert lines[:5] == [
        "name: set",
        "kind: story",
        "languages: en",
        "items: 2 (4 continuations)",
        "audio: 2 distinct spoken contexts in 4 context files, 4 continuation files",
    ]
    # duration: each of the 2 contexts once (not its 2 files) plus the 4 continuations
    distinct = [root / "audio" / "0.wav", root / "audio" / "2.wav"]
    conts = sorted((root / "audio").glob("*_c*.wav"))
    seconds = [sf.info(str(p)).duration for p in (*distinct, *conts)]
    assert lines[5] == (
        f"duration: {sum(seconds):.1f} s total, {sum(seconds[:2]) / 2:.2f} s mean context"
    )
    assert lines[6] == "sample rate: 16000 Hz (all 8 audio files)"
    assert lines[7] == f"tts: espeak {tts['version']}, voice en-us, speaks at 22050 Hz"
    assert "{" not in "\n".join(lines)


def test_info_reads_the_rate_from_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = build(tmp_path, "--sample-rate", "24000")
    assert "sample rate: 24000 Hz (all 4 audio files)" in info_lines(root, capsys)
    # one file rewritten at another rate: the line says so, whatever the manifest claims
    sf.write(str(root / "audio" / "3.wav"), np.zeros(8000, dtype=np.int16), 8000)
    lines = info_lines(root, capsys)
    assert "sample rate: 24000 Hz (3 files), 8000 Hz (1 file)" in lines
    assert main(["data", "info", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sample_rates_hz"] == {"8000": 1, "24000": 3}


def test_voice_and_rate_texts() -> None:
    table = {"en": "en-us", "zh": "cmn"}
    assert voice_text(table, ["zh"]) == "cmn"
    assert voice_text(table, ["en", "zh"]) == "en-us (en), cmn (zh)"
    assert voice_text(table, ["fr"]) == "en-us (en), cmn (zh)"  # not named: the whole table
    assert voice_text("my/vits", ["en"]) == "my/vits"
    assert rates_text({"16000": 1}) == "16000 Hz (all 1 audio file)"
    assert rates_text({"8000": 2, "16000": 2}) == "8000 Hz (2 files), 16000 Hz (2 files)"
