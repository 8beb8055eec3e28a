"""Built-in sample audio: rendered once, 16 kHz mono PCM16, atomic, keyed by content."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from s2sbench.core.paths import cache_root
from s2sbench.data.task_spec import TaskSpec
from s2sbench.tasks.sample_audio import ensure_sample_audio, render_task_audio

STORY = "Tom baked bread. It smelled good."


def write_story_task(folder: Path, context: str = STORY) -> TaskSpec:
    rows = [
        {"uttid": 4, "first": context, "last": "His family ate it."},
        {"uttid": 5, "first": context, "last": "The car flew away."},
        {"uttid": 6, "first": "Anna sang a song.", "last": "People clapped."},
        {"uttid": 7, "first": "Anna sang a song.", "last": "The moon fell."},
    ]
    path = folder / "story.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return TaskSpec("tiny_story", "story", "en", path, builtin=True)


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_renders_once_per_item_then_skips(tmp_path: Path):
    spec = write_story_task(tmp_path)
    first = render_task_audio(spec)
    assert (first.rendered, first.skipped) == (2, 0)
    assert sorted(p.name for p in first.audio_dir.glob("*.wav")) == [
        "4.wav",
        "5.wav",
        "6.wav",
        "7.wav",
    ]
    second = render_task_audio(spec)
    assert (second.rendered, second.skipped) == (0, 2)
    assert second.audio_dir == first.audio_dir


def test_files_are_16k_mono_pcm16_and_no_temp_files_remain(tmp_path: Path):
    spec = write_story_task(tmp_path)
    audio_dir = ensure_sample_audio(spec).audio_dir
    assert audio_dir is not None
    for wav in audio_dir.glob("*.wav"):
        info = sf.info(str(wav))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert info.duration > 0.5
    assert not [p for p in audio_dir.iterdir() if p.name.endswith(".tmp")]
    manifest = json.loads((audio_dir / "manifest.json").read_text())
    assert manifest["tts"]["backend"] == "espeak" and set(manifest["files"]) == {"4", "5", "6", "7"}


def test_loaded_items_point_at_the_rendered_audio(tmp_path: Path):
    task = ensure_sample_audio(write_story_task(tmp_path)).load()
    assert [item.context_audio.name for item in task.items] == ["4.wav", "6.wav"]
    assert all(item.context_audio.is_file() for item in task.items)


def test_changed_text_renders_into_a_new_folder(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = render_task_audio(write_story_task(tmp_path / "a"))
    changed = write_story_task(tmp_path / "b", context="Tom baked a cake. It smelled good.")
    second = render_task_audio(changed)
    assert second.audio_dir != first.audio_dir
    assert second.rendered == 2
    a, _ = sf.read(str(first.audio_dir / "4.wav"))
    b, _ = sf.read(str(second.audio_dir / "4.wav"))
    assert a.shape != b.shape or not np.array_equal(a, b)


def test_cache_root_respects_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("S2SBENCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "s2sbench"
