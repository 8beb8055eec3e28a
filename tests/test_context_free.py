"""The context-free baseline (condition ``none``) and the context-driven share of the degradation.

``none`` reads each continuation alone, from BOS: no prefix, no joiner, no audio. The share is
(T2T - S2T) / (T2T - none) over the items scored all three ways, with a paired bootstrap CI,
and null with a reason when T2T - none is not clearly positive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from s2sbench.evaluator import evaluate
from s2sbench.metrics.context_share import MIN_CONTEXT_GAIN, context_share
from s2sbench.models.base import ContinuationScore
from s2sbench.requests.build import ContextRequest, build_requests
from s2sbench.requests.conditions import Condition, parse_conditions
from s2sbench.requests.prompts import get_template
from s2sbench.scores.records import ScoreRecord
from s2sbench.tasks.item import Item, Task
from s2sbench.tasks.registry import BUILTIN_TASKS

TOL = 1e-5


class OracleModel:
    """Right on chosen items per condition: per-item results the test fixes by hand.

    The gold continuation gets loss 1 and the others loss 2 on the items listed for the
    request's condition; the reverse elsewhere. ``seen`` keeps every request it scored.
    """

    name = "oracle"

    def __init__(self, right: dict[str, set[str]]):
        self.right = right
        self.seen: list[ContextRequest] = []

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": "oracle", "right": {k: sorted(v) for k, v in self.right.items()}}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return "text continuations only" if condition.continuation_is_speech else None

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, request in enumerate(requests):
            self.seen.append(request)
            good = request.item_id in self.right[request.condition.value]
            scores = []
            for local in range(len(request.continuations)):
                item_index = request.part[local] if request.part else local
                loss = 1.0 if (item_index == request.gold) == good else 2.0
                scores.append(ContinuationScore(-loss, 1))
            yield index, scores


def story_ids(n: int) -> list[str]:
    return [item.id for item in BUILTIN_TASKS["sample_story_en"].load().limited(n).items]


def test_none_is_a_condition_with_an_empty_context_and_its_own_key() -> None:
    assert parse_conditions("t2t,s2t,none") == [Condition.T2T, Condition.S2T, Condition.NONE]
    assert not Condition.NONE.context_is_speech and not Condition.NONE.continuation_is_speech
    assert not Condition.NONE.has_context and Condition.T2T.has_context
    task = BUILTIN_TASKS["sample_story_en"].load().limited(3)
    template = get_template("reference")
    read = build_requests(task, Condition.T2T, template)
    bare = build_requests(task, Condition.NONE, template)
    for r, n in zip(read, bare):
        assert r.context_text and r.joiner == " "  # T2T: the context text, then a space
        assert (n.prefix, n.context_text, n.joiner, n.context_audio) == ("", "", "", None)
        assert n.text_context == ""
        assert n.continuations == r.continuations
        assert n.render(0) == n.continuations[0]
        assert n.key != r.key  # never served T2T's stored scores


def test_zh_none_has_no_prefix_either() -> None:
    task = BUILTIN_TASKS["sample_story_zh"].load().limited(1)
    (request,) = build_requests(task, Condition.NONE, get_template("reference"))
    assert request.text_context == "" and request.render(1) == request.continuations[1]


def hand_share(t2t: list[float], s2t: list[float], none: list[float]) -> float:
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return (mean(t2t) - mean(s2t)) / (mean(t2t) - mean(none))


def test_share_in_results_table_and_report_equals_the_formula(tmp_path: Path) -> None:
    ids = story_ids(20)
    right = {"t2t": set(ids[:18]), "s2t": set(ids[:14]), "none": set(ids[:10])}
    model = OracleModel(right)
    out = tmp_path / "run"
    result = evaluate(
        model,
        tasks="sample_story_en",
        conditions="t2t,s2t,none",
        limit=20,
        output_path=out,
        log_samples=True,
        progress=False,
    )
    # per-item results read back from the sample files (the item's 0/1 correctness)
    per_item: dict[str, dict[str, float]] = {}
    for cond in ("t2t", "s2t", "none"):
        for line in (out / f"samples_sample_story_en_{cond}.jsonl").read_text().splitlines():
            row = json.loads(line)
            per_item.setdefault(cond, {})[str(row["item_id"])] = float(row["correct"])
    columns = [[per_item[c][i] for i in ids] for c in ("t2t", "s2t", "none")]
    assert [sum(c) for c in columns] == [18, 14, 10]
    expected = hand_share(*columns)
    assert expected == pytest.approx(0.5)
    saved = json.loads((out / "results.json").read_text())
    share = saved["degradation"]["sample_story_en"]["t2t->s2t"]["context_share"]
    assert share["share"] == pytest.approx(expected, abs=1e-12)
    assert share["undefined_reason"] is None and share["n_items"] == 20
    assert share["acc_none"] == pytest.approx(0.5) and share["context_gain"] == pytest.approx(0.4)
    assert share["ci_low"] < expected < share["ci_high"]
    assert share["context_gain_ci_low"] > 0
    assert result.results["sample_story_en"]["none"]["acc"] == pytest.approx(0.5)
    # none requests carried no context at all
    bare = [r for r in model.seen if r.condition is Condition.NONE]
    assert len(bare) == 20 and all(r.text_context == "" for r in bare)

    from rich.console import Console

    from s2sbench.reports.table import print_summary

    console = Console(width=250, record=True)
    print_summary(saved, console)
    text = console.export_text()
    share_table = text[text.index("context-driven share of the degradation") :]
    row = next(line for line in share_table.splitlines() if "sample_story_en" in line)
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells[:6] == ["sample_story_en", "20", "90.0", "70.0", "50.0", "+40.0"]
    assert cells[7] == "50" and cells[8].startswith("[")

    from s2sbench.reports.report import write_report

    report = write_report([out], tmp_path / "report.md", fmt="md")
    markdown = Path(report).read_text()
    assert "Context-driven share of the degradation" in markdown
    assert "| sample_story_en | 20 | 90.0 | 70.0 | 50.0 | +40.0 |" in markdown


def records(cond: str, correct: list[bool]) -> list[ScoreRecord]:
    """Story records whose item is right (gold loss lower) where ``correct`` says so."""
    out = []
    for index, good in enumerate(correct):
        losses = (1.0, 2.0) if good else (2.0, 1.0)
        scores = tuple(ContinuationScore(-loss, 1) for loss in losses)
        out.append(ScoreRecord("t", cond, str(index), 0, scores, (1, 1), (1, 1)))
    return out


def test_share_is_undefined_when_the_context_does_not_help() -> None:
    t2t = [i % 10 < 8 for i in range(40)]
    s2t = [i % 10 < 6 for i in range(40)]
    same = context_share(records("t2t", t2t), records("s2t", s2t), records("none", t2t), "story")
    assert same["share"] is None and same["ci_low"] is None
    assert same["context_gain"] == 0.0 and "reaches 0" in same["undefined_reason"]
    better = [True] * 40  # no context beats the context: the gain is negative
    neg = context_share(records("t2t", t2t), records("s2t", s2t), records("none", better), "story")
    assert neg["share"] is None and neg["context_gain"] < 0
    helps = [i % 10 < 4 for i in range(40)]
    ok = context_share(records("t2t", t2t), records("s2t", s2t), records("none", helps), "story")
    assert ok["share"] == pytest.approx(hand_share(t2t, s2t, helps))  # (80-60)/(80-40)
    assert ok["share"] == pytest.approx(0.5)


def test_undefined_share_is_null_in_results_and_named_in_table_and_report(tmp_path: Path) -> None:
    ids = story_ids(12)
    model = OracleModel({"t2t": set(ids[:9]), "s2t": set(ids[:6]), "none": set(ids[:9])})
    out = tmp_path / "run"
    evaluate(model, tasks="sample_story_en", conditions="t2t,s2t,none", limit=12,
             output_path=out, progress=False)  # fmt: skip
    saved = json.loads((out / "results.json").read_text())
    share = saved["degradation"]["sample_story_en"]["t2t->s2t"]["context_share"]
    assert share["share"] is None and share["ci_low"] is None and share["context_gain"] == 0
    assert "reaches 0" in share["undefined_reason"]
    from rich.console import Console

    from s2sbench.reports.report import write_report
    from s2sbench.reports.table import print_summary

    console = Console(width=250, record=True)
    print_summary(saved, console)
    assert "sample_story_en: share undefined: the context does not clearly help" in (
        console.export_text()
    )
    markdown = Path(write_report([out], tmp_path / "r.md", fmt="md")).read_text()
    assert "| undefined | - |" in markdown and "share undefined" in markdown


def test_a_significant_gain_under_one_point_is_still_undefined() -> None:
    # 1000 items, T2T right on 5 more than none: the gain is 0.5 points, and its CI stays
    # above 0 (a resample misses all 5 with probability about e^-5, under 2.5%)
    n = 1000
    t2t = [True] * n
    none = [i >= 5 for i in range(n)]
    share = context_share(records("t2t", t2t), records("s2t", t2t), records("none", none), "story")
    assert (
        share["context_gain"] == pytest.approx(0.005) and share["context_gain"] < MIN_CONTEXT_GAIN
    )
    assert share["context_gain_ci_low"] > 0  # the CI alone would allow it
    assert share["share"] is None and "1-point minimum" in share["undefined_reason"]


def test_ngram_reads_none_and_its_t2t_equal_share_is_undefined(tmp_path: Path) -> None:
    """The 3-gram conditions an ending that starts a sentence on <s> alone, so T2T == none."""
    result = evaluate("ngram", tasks="sample_story_en", conditions="t2t,none", progress=False)
    assert not result.skipped
    t2t, none = (result.records("sample_story_en", c) for c in ("t2t", "none"))
    assert [r.losses for r in t2t] == [r.losses for r in none]
    assert "t2t->s2t" not in result.degradation.get("sample_story_en", {})  # no S2T: no share


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
