"""espeak-ng through ctypes: deterministic, both voices speak, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from s2sbench.core.errors import ConfigError
from s2sbench.data.tts import TTSBackend, get_tts

SENTENCE = "The dog ran across the green park."


@pytest.fixture(scope="module")
def tts() -> TTSBackend:
    return get_tts("espeak")


def test_backend_follows_the_interface(tts: TTSBackend):
    assert isinstance(tts, TTSBackend)
    info = tts.info()
    assert info["backend"] == "espeak"
    assert info["sample_rate"] == 22050
    assert info["version"] and info["voice"]


def test_same_text_gives_the_same_samples(tts: TTSBackend):
    first, rate = tts.synthesize(SENTENCE, "en")
    tts.synthesize("Something else entirely, to disturb any state.", "en")
    tts.synthesize("中国最长的河流是长江。", "zh")
    again, rate2 = tts.synthesize(SENTENCE, "en")
    assert rate == rate2 == 22050
    assert first.dtype == np.float32
    assert np.array_equal(first, again)


@pytest.mark.parametrize(("text", "lang"), [(SENTENCE, "en"), ("中国最长的河流是长江。", "zh")])
def test_both_voices_produce_speech(tts: TTSBackend, text: str, lang: str):
    samples, rate = tts.synthesize(text, lang)
    assert samples.ndim == 1
    assert len(samples) / rate > 1.0
    assert np.abs(samples).max() <= 1.0
    assert np.sqrt(np.mean(samples**2)) > 0.02


def test_fixed_voice_is_used_for_every_language():
    cmn = get_tts("espeak", voice="cmn")
    assert cmn.info()["voice"] == "cmn"
    default_zh, _ = get_tts("espeak").synthesize("你好", "zh")
    forced, _ = cmn.synthesize("你好", "en")
    assert np.array_equal(default_zh, forced)


def test_unknown_voice_is_a_config_error():
    with pytest.raises(ConfigError, match="no voice 'xx-nonexistent'"):
        get_tts("espeak", voice="xx-nonexistent")


def test_unknown_language_and_backend_are_config_errors(tts: TTSBackend):
    with pytest.raises(ConfigError, match="no default espeak-ng voice"):
        tts.synthesize("hola", "es")
    with pytest.raises(ConfigError, match="unknown TTS backend"):
        get_tts("nope")
