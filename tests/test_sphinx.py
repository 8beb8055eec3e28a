"""pocketsphinx ASR and the sphinx cascade: recognition, caching, scoring rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from s2sbench.core.atomic_write import write_atomic_bytes
from s2sbench.core.conditions import Condition
from s2sbench.core.item import Item, Task
from s2sbench.data.render import DEFAULT_LOUDNESS_DBFS, render_wav
from s2sbench.data.tts import get_tts
from s2sbench.metrics.wer import corpus_wer, wer
from s2sbench.models.ngram import NGramModelAdapter, NGramScorer
from s2sbench.models.sphinx_asr import SphinxTranscriber
from s2sbench.models.sphinx_cascade import SphinxCascade
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import get_template
from s2sbench.tasks.sample_audio import SAMPLE_RATE

SENTENCES = {
    "1": "We need more money for the new school.",
    "2": "This is a test of the system.",
}


@pytest.fixture(scope="module")
def wavs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("speech")
    tts = get_tts("espeak")
    out = {}
    for uttid, text in SENTENCES.items():
        out[uttid] = folder / f"{uttid}.wav"
        samples, rate = tts.synthesize(text, "en")
        write_atomic_bytes(
            out[uttid], render_wav(samples, rate, SAMPLE_RATE, DEFAULT_LOUDNESS_DBFS)
        )
    return out


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))


def make_task(wavs: dict[str, Path]) -> Task:
    items = [
        Item(
            uttid, "en", SENTENCES[uttid], ("It was sunny.", "Fish can fly."), 0, context_audio=path
        )
        for uttid, path in wavs.items()
    ]
    return Task("tiny_en", "story", "en", tuple(items))


def test_wer_counts_word_edits():
    assert wer("the cat sat", "the cat sat") == 0.0
    assert wer("the cat sat", "a cat") == pytest.approx(2 / 3)
    assert wer("Hello, world!", "hello world") == 0.0
    result = corpus_wer([("a b c d", "a x c d"), ("e f", "")])
    assert (result.edits, result.ref_words, result.wer) == (3, 6, 0.5)


def test_transcribes_clear_sentences_mostly_right(wavs: dict[str, Path]):
    transcriber = SphinxTranscriber(workers=2)
    transcripts = transcriber.transcribe_many(wavs.values())
    assert transcriber.decoded == 2
    for uttid, path in wavs.items():
        text = transcripts[path]
        assert text == text.lower()
        assert wer(SENTENCES[uttid], text) < 1.0, text


def test_second_call_reads_the_transcript_cache(wavs: dict[str, Path]):
    first = SphinxTranscriber(workers=1)
    expected = first.transcribe(wavs["1"])
    again = SphinxTranscriber(workers=1)  # a new object: only the disk cache can help
    assert again.transcribe(wavs["1"]) == expected
    assert (again.decoded, again.cache_hits) == (0, 1)


def test_cascade_s2t_scores_the_transcript_like_t2t(wavs: dict[str, Path]):
    task = make_task(wavs)
    model = SphinxCascade(workers=1)
    requests = build_requests(task, Condition.S2T, get_template("reference"))
    shared = requests + requests  # the same audio twice: still decoded once
    results = dict(model.score(shared))
    assert model.transcriber.decoded == 2
    scorer = NGramScorer()
    for index, request in enumerate(shared):
        transcript = results[index][0].extra["transcript"]
        assert request.prefix and not transcript.startswith(request.prefix.lower())
        for cont, score in zip(request.continuations, results[index]):
            expected = scorer.score_text(transcript, cont)
            assert (score.logprob_sum, score.n_tokens) == (expected.logprob_sum, expected.n_tokens)
            assert score.extra["transcript"] == transcript


def test_cascade_t2t_equals_the_ngram_adapter(wavs: dict[str, Path]):
    requests = build_requests(make_task(wavs), Condition.T2T, get_template("reference"))
    cascade = dict(SphinxCascade(workers=1).score(requests))
    ngram = dict(NGramModelAdapter().score(requests))
    assert cascade == ngram


def test_unsupported_conditions_say_why():
    model = SphinxCascade(workers=1)
    reason = model.unsupported_reason(Condition.S2T, "zh")
    assert reason and "en-US" in reason and "Chinese" in reason
    assert "speech-continuation" in (model.unsupported_reason(Condition.S2S, "en") or "")
    assert model.unsupported_reason(Condition.T2T, "en") is None
    assert model.unsupported_reason(Condition.S2T, "en") is None


def test_fingerprint_changes_with_decoder_settings():
    fast, full = SphinxCascade(preset="fast"), SphinxCascade(preset="full")
    assert fast.fingerprint()["adapter"] == "sphinx"
    assert fast.fingerprint()["asr"]["hmm"].endswith("en-us")
    assert fast.fingerprint() != full.fingerprint()
    assert fast.transcriber.key != full.transcriber.key


def test_a_transcript_does_not_depend_on_what_the_decoder_heard_before() -> None:
    """Workers decode files in scheduling order; each transcript must be the same anyway.

    Uses story-length contexts of the sample suite: on those, pocketsphinx's carried-over
    feature state changed transcripts before the decoder was reset per utterance.
    """
    from s2sbench.models.sphinx_decoder import decode, decoder_config, make_decoder, read_pcm16
    from s2sbench.tasks.registry import BUILTIN_TASKS
    from s2sbench.tasks.sample_audio import ensure_sample_audio

    audio_dir = ensure_sample_audio(BUILTIN_TASKS["sample_story_en"]).audio_dir
    assert audio_dir is not None
    pcm = [read_pcm16(audio_dir / f"{uttid}.wav") for uttid in (0, 2, 4, 6)]
    config = decoder_config()
    fresh = [decode(make_decoder(config), p) for p in pcm]
    decoder = make_decoder(config)
    assert [decode(decoder, p) for p in reversed(pcm)] == list(reversed(fresh))
