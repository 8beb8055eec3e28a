"""The context-free condition (``none``) through the real adapters.

Text LMs read the continuation from BOS (a plain forward of ``[BOS] + continuation`` is the
reference), hf-audio does the same on its text side, cascades transcribe nothing, and the
speech-continuation-only adapters say they cannot score it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from s2sbench.core.conditions import Condition
from s2sbench.core.item import Item, Task
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import get_template
from s2sbench.tasks.registry import BUILTIN_TASKS

TOL = 1e-5


def test_adapters_say_whether_they_read_none() -> None:
    from s2sbench.models.hf_audio import HFAudioLM
    from s2sbench.models.hf_causal import HFCausalLM
    from s2sbench.models.ngram import NGramModelAdapter
    from s2sbench.models.sphinx_cascade import SphinxCascade
    from s2sbench.models.unit_lm import UnitLM
    from s2sbench.plugins.kimi_audio import KimiAudio

    assert NGramModelAdapter().unsupported_reason(Condition.NONE, "en") is None
    assert SphinxCascade(workers=1).unsupported_reason(Condition.NONE, "en") is None
    # the text LMs' and hf-audio's rules never look at the weights for a text condition
    for adapter in (HFCausalLM, HFAudioLM):
        assert adapter.unsupported_reason(object(), Condition.NONE, "zh") is None  # type: ignore[arg-type]
    for speech_only in (UnitLM, KimiAudio):
        reason = speech_only.unsupported_reason(object(), Condition.NONE, "en")  # type: ignore[arg-type]
        assert reason and "spoken continuations" in reason


# --- real adapters: none reads the continuation from BOS, and a cascade transcribes nothing


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from tiny_models import make_gpt2

    return make_gpt2(tmp_path_factory.mktemp("gpt2_none"))


def bos_forward(model: Any, bos: int, continuation_ids: list[int]) -> float:
    """Sum of log p(continuation) from one plain forward of ``[BOS] + continuation``."""
    import torch

    ids = torch.tensor([[bos, *continuation_ids]])
    with torch.inference_mode():
        logprobs = torch.log_softmax(model(ids).logits[0, :-1].float(), dim=-1)
    return float(sum(logprobs[t, tok] for t, tok in enumerate(continuation_ids)))


def tiny_task(audio: list[Path] | None = None) -> Task:
    texts = [
        ("The cat sat on the mat.", ("It was happy.", "It flew away.")),
        ("She went to the market.", ("She bought bread.", "She ate the sun.", "Then home.")),
    ]
    items = tuple(
        Item(str(i), "en", text, conts, 0, context_audio=audio[i] if audio else None)
        for i, (text, conts) in enumerate(texts)
    )
    return Task("tiny_none", "story", "en", items)


def test_hf_none_equals_a_direct_forward_of_bos_and_the_continuation(gpt2_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from s2sbench.models.hf_causal import HFCausalLM

    requests = build_requests(tiny_task(), Condition.NONE, get_template("reference"))
    tokenizer = AutoTokenizer.from_pretrained(gpt2_dir)
    reference = AutoModelForCausalLM.from_pretrained(gpt2_dir).eval()
    for batch_size in (1, 4):
        lm = HFCausalLM(pretrained=str(gpt2_dir), dtype="float32", batch_size=batch_size)
        got = dict(lm.score(requests))
        for index, request in enumerate(requests):
            for cont, score in zip(request.continuations, got[index]):
                ids = tokenizer(cont, add_special_tokens=False)["input_ids"]
                assert score.n_tokens == len(ids)
                want = bos_forward(reference, tokenizer.bos_token_id, ids)
                assert abs(score.logprob_sum - want) <= TOL
    # and T2T of the same items differs: the context is really gone
    read = build_requests(tiny_task(), Condition.T2T, get_template("reference"))
    with_context = dict(lm.score(read))
    assert with_context[0][0].logprob_sum != pytest.approx(got[0][0].logprob_sum, abs=1e-3)


def test_a_cascade_runs_no_asr_for_none(gpt2_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from tiny_audio_models import make_whisper, write_wav

    from s2sbench.models.hf_cascade import HFCascade
    from s2sbench.models.hf_causal import HFCausalLM

    wavs = [write_wav(tmp_path / f"{i}.wav", 1.0, freq=220 + 100 * i, seed=i) for i in range(2)]
    cascade = HFCascade(asr=str(make_whisper(tmp_path / "whisper")), lm=str(gpt2_dir))
    assert cascade.unsupported_reason(Condition.NONE, "en") is None
    calls: list[int] = []
    real = cascade.asr.generate
    monkeypatch.setattr(cascade.asr, "generate", lambda f, **k: calls.append(1) or real(f, **k))
    task = tiny_task(wavs)
    requests = build_requests(task, Condition.NONE, get_template("reference"))
    got = dict(cascade.score(requests))
    assert calls == []  # nothing was transcribed
    assert all("transcript" not in s.extra for scores in got.values() for s in scores)
    lm = HFCausalLM(pretrained=str(gpt2_dir), dtype="float32")
    want = dict(lm.score(requests))
    for index in got:
        for x, y in zip(got[index], want[index]):
            assert abs(x.logprob_sum - y.logprob_sum) <= TOL and x.n_tokens == y.n_tokens
    dict(cascade.score(build_requests(task, Condition.S2T, get_template("reference"))))
    assert calls  # S2T does transcribe: the counter works


def test_sphinx_cascade_transcribes_nothing_for_none(monkeypatch) -> None:
    from s2sbench.models.sphinx_cascade import SphinxCascade

    cascade = SphinxCascade(workers=1)

    def refuse(paths: Any) -> Any:
        raise AssertionError(f"none must not transcribe, got {list(paths)}")

    monkeypatch.setattr(cascade.transcriber, "transcribe_many", refuse)
    task = BUILTIN_TASKS["sample_story_en"].load().limited(3)
    requests = build_requests(task, Condition.NONE, get_template("reference"))
    got = dict(cascade.score(requests))
    for index, request in enumerate(requests):
        want = [cascade.scorer.score_text("", c) for c in request.continuations]
        assert [s.logprob_sum for s in got[index]] == [s.logprob_sum for s in want]


def test_hf_audio_reads_none_on_its_text_side_from_bos(tmp_path: Path) -> None:
    pytest.importorskip("transformers")  # the hf extra
    import torch
    from tiny_audio_models import make_qwen2_audio

    from s2sbench.models.hf_audio import HFAudioLM
    from s2sbench.models.text_encoding import tokenizer_special_tokens

    model = HFAudioLM(pretrained=str(make_qwen2_audio(tmp_path / "qwen")), dtype="float32")
    assert model.unsupported_reason(Condition.NONE, "en") is None
    requests = build_requests(tiny_task(), Condition.NONE, get_template("reference"))
    got = dict(model.score(requests))
    tokenizer = model.processor.tokenizer
    start = list(tokenizer_special_tokens(tokenizer)[0]) or [model.start_id]  # BOS, else EOS
    for index, request in enumerate(requests):
        for cont, score in zip(request.continuations, got[index]):
            ids = tokenizer(cont, add_special_tokens=False)["input_ids"]
            with torch.inference_mode():
                logits = model.model(input_ids=torch.tensor([[*start, *ids]])).logits[0]
            logprobs = torch.log_softmax(logits[len(start) - 1 : -1].float(), dim=-1)
            want = float(sum(logprobs[t, tok] for t, tok in enumerate(ids)))
            assert score.n_tokens == len(ids) and abs(score.logprob_sum - want) <= TOL
