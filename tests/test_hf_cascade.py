"""hf-cascade: tiny random Whisper -> tiny random GPT-2, loaded through from_pretrained."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from tiny_audio_models import make_whisper, write_wav  # noqa: E402
from tiny_models import make_gpt2  # noqa: E402

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import DataError
from s2sbench.core.item import Item, Task
from s2sbench.data.audio import read_audio  # noqa: E402
from s2sbench.models.hf_cascade import HFCascade  # noqa: E402
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import get_template  # noqa: E402

TOL = 1e-5


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_whisper(tmp_path_factory.mktemp("whisper"))


@pytest.fixture(scope="session")
def lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_gpt2(tmp_path_factory.mktemp("gpt2"))


@pytest.fixture(scope="session")
def wavs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cascade_wavs")
    return {
        "a": write_wav(root / "a.wav", 1.0, freq=220, seed=0),
        "b": write_wav(root / "b.wav", 2.0, rate=22050, freq=660, seed=1),
        "long": write_wav(root / "long.wav", 31.0, freq=150, seed=2),
    }


def make_cascade(whisper_dir: Path, lm_dir: Path, **kwargs: Any) -> HFCascade:
    return HFCascade(asr=str(whisper_dir), lm=str(lm_dir), dtype="float32", batch_size=4, **kwargs)


def make_task(audio: list[Path], lang: str = "en") -> Task:
    texts = [
        (
            "The cat sat on the mat.",
            ("It was happy.", "It flew away.", "Then it slept.", "Bread is good."),
        ),
        ("She went to the market.", ("She bought bread.", "She ate the sun.")),
        ("After the rain stopped.", ("They played.", "They cried.")),
    ]
    items = tuple(
        Item(str(i), lang, text, conts, 0, context_audio=path)
        for i, ((text, conts), path) in enumerate(zip(texts, audio))
    )
    return Task("tiny_cascade", "story", lang, items)


def run(model: Any, requests: list[ContextRequest]) -> list[list]:
    out = dict(model.score(requests))
    assert sorted(out) == list(range(len(requests)))
    return [out[i] for i in range(len(requests))]


def count_generate(cascade: HFCascade, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Record every ASR ``generate`` call: batch size and keyword arguments."""
    calls: list[dict] = []
    real = cascade.asr.generate

    def counting(features, **kwargs):
        calls.append({"batch": features.shape[0], **kwargs})
        return real(features, **kwargs)

    monkeypatch.setattr(cascade.asr, "generate", counting)
    return calls


def test_transcript_kept_and_lm_scores_it_like_text(whisper_dir, lm_dir, wavs) -> None:
    import torch

    cascade = make_cascade(whisper_dir, lm_dir)
    requests = build_requests(
        make_task([wavs["a"], wavs["b"]]), Condition.S2T, get_template("reference")
    )
    scores = run(cascade, requests)
    lm = HFCausalLM(pretrained=str(lm_dir), dtype="float32", batch_size=1)
    processor = cascade.processor
    for request, got in zip(requests, scores):
        samples = read_audio(request.context_audio, 16000)
        features = processor.feature_extractor(samples, sampling_rate=16000, return_tensors="pt")[
            "input_features"
        ]
        with torch.no_grad():
            ids = cascade.asr.generate(features, language="en", task="transcribe")
        expected = processor.batch_decode(ids, skip_special_tokens=True)[0].strip()
        transcripts = {s.extra["transcript"] for s in got}
        assert transcripts == {expected}
        as_text = dataclasses.replace(
            request, condition=Condition.T2T, prefix="", context_text=expected, context_audio=None
        )
        reference = run(lm, [as_text])[0]
        assert [s.n_tokens for s in got] == [s.n_tokens for s in reference]
        for x, y in zip(got, reference):
            assert abs(x.logprob_sum - y.logprob_sum) <= TOL


def test_t2t_equals_the_causal_lm_alone(whisper_dir, lm_dir, wavs) -> None:
    cascade = make_cascade(whisper_dir, lm_dir)
    lm = HFCausalLM(pretrained=str(lm_dir), dtype="float32", batch_size=4)
    requests = build_requests(
        make_task([wavs["a"], wavs["b"], wavs["a"]]), Condition.T2T, get_template("reference")
    )
    for got, want in zip(run(cascade, requests), run(lm, requests)):
        assert [s.n_tokens for s in got] == [s.n_tokens for s in want]
        assert all(abs(x.logprob_sum - y.logprob_sum) <= TOL for x, y in zip(got, want))
        assert all("transcript" not in s.extra for s in got)


def test_asr_runs_once_per_audio_file(whisper_dir, lm_dir, wavs, monkeypatch) -> None:
    cascade = make_cascade(whisper_dir, lm_dir)
    calls = count_generate(cascade, monkeypatch)
    task = make_task([wavs["a"], wavs["b"], wavs["a"]])
    requests = build_requests(task, Condition.S2T, get_template("reference"))
    first = run(cascade, requests)
    second = run(cascade, requests)
    assert [c["batch"] for c in calls] == [2] and calls[0]["language"] == "en"  # one batch
    assert cascade.loader.decode_count == 2
    assert first[0][0].extra == first[2][0].extra
    assert [s.logprob_sum for s in first[1]] == [s.logprob_sum for s in second[1]]


def test_language_comes_from_the_request(whisper_dir, lm_dir, wavs, monkeypatch) -> None:
    cascade = make_cascade(whisper_dir, lm_dir)
    calls = count_generate(cascade, monkeypatch)
    requests = build_requests(
        make_task([wavs["a"]], lang="zh"), Condition.S2T, get_template("reference")
    )
    run(cascade, requests)
    assert [c["language"] for c in calls] == ["zh"]
    assert cascade.unsupported_reason(Condition.S2T, "fr")
    assert cascade.unsupported_reason(Condition.T2T, "fr") is None
    assert cascade.unsupported_reason(Condition.S2S, "en")
    monkeypatch.setattr(cascade.asr.generation_config, "is_multilingual", False)
    assert "English-only" in cascade.unsupported_reason(Condition.S2T, "zh")
    assert cascade.unsupported_reason(Condition.S2T, "en") is None


def test_long_audio_policy(whisper_dir, lm_dir, wavs, monkeypatch) -> None:
    requests = build_requests(make_task([wavs["long"]]), Condition.S2T, get_template("reference"))
    with pytest.raises(DataError, match="long.wav"):
        run(make_cascade(whisper_dir, lm_dir), requests)
    chunked = make_cascade(whisper_dir, lm_dir, long_audio="chunk")
    calls = count_generate(chunked, monkeypatch)
    scores = run(chunked, requests)[0]
    assert [c["batch"] for c in calls] == [2]
    assert all(s.n_tokens > 0 for s in scores)
    truncated = make_cascade(whisper_dir, lm_dir, long_audio="truncate")
    assert run(truncated, requests)[0][0].n_tokens > 0
    assert chunked.fingerprint() != truncated.fingerprint()
