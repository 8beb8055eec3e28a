"""hf-audio on a tiny random Qwen2-Audio: scores match a hand-built forward, audio matters."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from tiny_audio_models import make_qwen2_audio, write_wav  # noqa: E402
from zoo_requests import masked_logprob_sum  # noqa: E402

import s2sbench.data.audio as audio_module  # noqa: E402
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import DataError, ModelError
from s2sbench.core.item import Item, Task
from s2sbench.models.hf_audio import HFAudioLM  # noqa: E402
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import get_template  # noqa: E402

TOL = 1e-5
STORIES = (
    (
        "The cat sat on the mat.",
        ("It was happy.", "It flew to the moon.", "Then it slept.", "Bread is good."),
    ),
    ("She went to the market.", ("She bought bread.", "She ate the sun.")),
    ("After the rain stopped, the children ran outside.", ("They played.", "They cried.")),
)


@pytest.fixture(scope="session")
def qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_qwen2_audio(tmp_path_factory.mktemp("qwen2_audio"))


@pytest.fixture(scope="session")
def wavs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("wavs")
    return {
        "short": write_wav(root / "short.wav", 1.0, freq=220, seed=0),
        "resampled": write_wav(root / "resampled.wav", 2.5, rate=22050, freq=330, seed=1),
        "medium": write_wav(root / "medium.wav", 3.0, freq=440, seed=2),
        "other": write_wav(root / "other.wav", 1.0, freq=880, seed=3),
        "long": write_wav(root / "long.wav", 31.0, freq=150, seed=4),
    }


@pytest.fixture(scope="session")
def model(qwen_dir: Path) -> HFAudioLM:
    return HFAudioLM(pretrained=str(qwen_dir), dtype="float32", device="cpu", batch_size=4)


def make_task(audio: list[Path], stories: tuple = STORIES) -> Task:
    items = tuple(
        Item(str(i), "en", text, conts, 0, context_audio=path)
        for i, ((text, conts), path) in enumerate(zip(stories, audio))
    )
    return Task("tiny_story", "story", "en", items)


def requests_for(task: Task, condition: Condition) -> list[ContextRequest]:
    return build_requests(task, condition, get_template("reference"))


def run(model: HFAudioLM, requests: list[ContextRequest]) -> list[list]:
    out: dict[int, list] = dict(model.score(requests))
    assert sorted(out) == list(range(len(requests)))
    return [out[i] for i in range(len(requests))]


def hand_built(model: HFAudioLM, request: ContextRequest) -> list[tuple[float, int]]:
    """The processor on each full text, one forward each, loss masked to the continuation."""
    import torch

    processor, spec = model.processor, model.spec
    if request.context_text is None:
        samples = audio_module.read_audio(request.context_audio, spec.sampling_rate)
        context = request.prefix + spec.placeholder

        def encode(text: str) -> dict:
            return processor(
                text=[text], audio=[samples], sampling_rate=spec.sampling_rate, return_tensors="pt"
            )
    else:
        context = request.text_context.rstrip()

        def encode(text: str) -> dict:
            return dict(processor.tokenizer([text], return_tensors="pt"))

    n_context = encode(context)["input_ids"].shape[1]
    gap = request.text_context[len(context) :] if request.context_text is not None else ""
    out = []
    for cont in request.continuations:
        inputs = encode(context + gap + cont)
        ids = inputs["input_ids"]
        labels = ids.clone()
        labels[:, :n_context] = -100
        with torch.no_grad():
            logits = model.model(**inputs).logits
        out.append(masked_logprob_sum(logits, labels))
    return out


@pytest.mark.parametrize("condition", [Condition.S2T, Condition.T2T])
def test_scores_match_hand_built_forward(model, wavs, condition) -> None:
    task = make_task([wavs["short"], wavs["resampled"], wavs["medium"]])
    requests = requests_for(task, condition)
    for request, scores in zip(requests, run(model, requests)):
        expected = hand_built(model, request)
        for score, (logprob, n_tokens) in zip(scores, expected):
            assert score.n_tokens == n_tokens > 0
            assert score.logprob_sum == pytest.approx(logprob, abs=TOL)


def test_batch_size_does_not_change_scores(qwen_dir, model, wavs) -> None:
    task = make_task([wavs["short"], wavs["resampled"], wavs["medium"]])
    single = HFAudioLM(pretrained=str(qwen_dir), dtype="float32", batch_size=1)
    for condition in (Condition.S2T, Condition.T2T):
        requests = requests_for(task, condition)
        for a, b in zip(run(model, requests), run(single, requests)):
            assert [s.n_tokens for s in a] == [s.n_tokens for s in b]
            for x, y in zip(a, b):
                assert abs(x.logprob_sum - y.logprob_sum) <= TOL


def test_changing_only_the_audio_changes_the_score(model, wavs) -> None:
    first = requests_for(make_task([wavs["short"]]), Condition.S2T)
    second = requests_for(make_task([wavs["other"]]), Condition.S2T)
    a, b = run(model, first)[0], run(model, second)[0]
    assert [s.n_tokens for s in a] == [s.n_tokens for s in b]
    assert all(abs(x.logprob_sum - y.logprob_sum) > 1e-4 for x, y in zip(a, b))


def test_wrong_audio_keyword_is_an_error_not_a_silent_text_score(qwen_dir, wavs) -> None:
    broken = HFAudioLM(pretrained=str(qwen_dir), dtype="float32")
    broken.spec = dataclasses.replace(broken.spec, audio_kwarg="audios")
    with pytest.raises(ModelError, match="audio_kwarg"):
        run(broken, requests_for(make_task([wavs["short"]]), Condition.S2T))


def test_continuations_scored_together_or_alone_agree(model, wavs) -> None:
    request = requests_for(make_task([wavs["resampled"]]), Condition.S2T)[0]
    together = run(model, [request])[0]
    alone = [
        run(model, [dataclasses.replace(request, continuations=(cont,))])[0][0]
        for cont in request.continuations
    ]
    assert len(together) == 4
    for x, y in zip(together, alone):
        assert x.n_tokens == y.n_tokens
        assert abs(x.logprob_sum - y.logprob_sum) <= TOL


def test_audio_decoded_and_featurised_once_per_request(qwen_dir, wavs, monkeypatch) -> None:
    fresh = HFAudioLM(pretrained=str(qwen_dir), dtype="float32", batch_size=2)
    reads: Counter[Path] = Counter()
    real_read = audio_module.read_audio

    def counting_read(path: Path, sample_rate: int):
        reads[Path(path)] += 1
        return real_read(path, sample_rate)

    extractor_type = type(fresh.processor.feature_extractor)
    real_call = extractor_type.__call__
    calls = []

    def counting_call(self, raw, *args, **kwargs):
        calls.append(len(raw) if isinstance(raw, list) else 1)
        return real_call(self, raw, *args, **kwargs)

    monkeypatch.setattr(audio_module, "read_audio", counting_read)
    monkeypatch.setattr(extractor_type, "__call__", counting_call)
    paths = [wavs["short"], wavs["medium"]]
    requests = requests_for(make_task(paths), Condition.S2T)
    scores = run(fresh, requests)
    assert [len(s) for s in scores] == [4, 2]
    assert reads == Counter(paths)
    assert fresh.loader.decode_count == 2
    assert calls == [1, 1]


def test_long_audio_errors_by_default_and_truncate_or_chunk_work(qwen_dir, wavs) -> None:
    task = make_task([wavs["long"]])
    requests = requests_for(task, Condition.S2T)
    strict = HFAudioLM(pretrained=str(qwen_dir), dtype="float32")
    with pytest.raises(DataError, match="long.wav"):
        run(strict, requests)
    truncated = HFAudioLM(pretrained=str(qwen_dir), dtype="float32", long_audio="truncate")
    chunked = HFAudioLM(pretrained=str(qwen_dir), dtype="float32", long_audio="chunk")
    a, b = run(truncated, requests)[0], run(chunked, requests)[0]
    assert [s.n_tokens for s in a] == [s.n_tokens for s in b]
    assert all(abs(x.logprob_sum - y.logprob_sum) > 1e-6 for x, y in zip(a, b))
    assert truncated.fingerprint() != chunked.fingerprint()


def test_speech_continuations_are_unsupported_and_fingerprint_names_weights(model) -> None:
    assert model.unsupported_reason(Condition.S2S, "en")
    assert model.unsupported_reason(Condition.S2T, "zh") is None
    fp = model.fingerprint()
    assert fp["adapter"] == "hf-audio" and fp["weights_sha256"]
    assert fp["model_type"] == "qwen2_audio" and fp["dtype"] == "float32"


def test_not_an_audio_llm_is_a_clear_error(tmp_path) -> None:
    from tiny_models import make_gpt2

    path = make_gpt2(tmp_path / "gpt2")
    with pytest.raises(ModelError, match="gpt2"):
        HFAudioLM(pretrained=str(path))


def test_context_reuse_equals_full_sequences_and_encodes_audio_once(qwen_dir, wavs) -> None:
    stories = (
        ("The cat sat on the mat.", (".", "It flew to the moon.", "Then it slept.", "!")),
        ("She went to the market.", ("She bought bread.", ".")),
    )
    task = make_task([wavs["short"], wavs["resampled"]], stories)
    full = HFAudioLM(pretrained=str(qwen_dir), dtype="float32", reuse_context=False)
    shared = HFAudioLM(pretrained=str(qwen_dir), dtype="float32", batch_size=8)
    encoded: list[int] = []
    counts: list[int] = []
    shared.model.model.audio_tower.register_forward_hook(
        lambda _module, args, _out: encoded.append(args[0].shape[0])
    )
    for condition in (Condition.S2T, Condition.T2T):
        requests = requests_for(task, condition)
        for a, b in zip(run(full, requests), run(shared, requests)):
            assert [s.n_tokens for s in a] == [s.n_tokens for s in b]
            counts += [s.n_tokens for s in a]
            assert all(abs(x.logprob_sum - y.logprob_sum) <= TOL for x, y in zip(a, b))
    assert encoded == [2]
    assert min(counts) == 1  # a one-token continuation reads only the context's last state


def test_evaluate_end_to_end_through_the_registry(qwen_dir, tmp_path, monkeypatch) -> None:
    import s2sbench

    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))
    result = s2sbench.evaluate(
        model="hf-audio",
        model_args=f"pretrained={qwen_dir},dtype=float32",
        tasks=["sample_story_en", "sample_cmmlu"],
        conditions=["t2t", "s2t"],
        limit=2,
        progress=False,
        output_path=tmp_path / "run",
    )
    assert not result.skipped
    for task in ("sample_story_en", "sample_cmmlu"):
        t2t = result.records(task, "t2t")
        s2t = result.records(task, "s2t")
        assert len(t2t) == len(s2t) == 2
        assert [r.scores[0].logprob_sum for r in t2t] != [r.scores[0].logprob_sum for r in s2t]
        assert "t2t->s2t" in result.degradation[task]
    assert result.config["model_fingerprint"]["adapter"] == "hf-audio"


def test_weights_load_with_the_first_batch_only(qwen_dir, wavs) -> None:
    """Building the adapter (fingerprint, sweep planning) reads no weights."""
    lazy = HFAudioLM(str(qwen_dir), dtype="float32")
    fingerprint = lazy.fingerprint()
    assert not lazy.weights.loaded and fingerprint["dtype"] == "float32"
    requests = requests_for(make_task([wavs["short"], wavs["medium"]]), Condition.S2T)
    assert run(lazy, requests) == run(HFAudioLM(str(qwen_dir), dtype="float32"), requests)
    assert lazy.weights.loaded and lazy.fingerprint() == fingerprint
