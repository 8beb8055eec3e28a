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

from s2sbench.core.conditions import Condition, parse_conditions
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.score_record import ScoreRecord
from s2sbench.core.scoring import ContinuationScore
from s2sbench.evaluator import evaluate
from s2sbench.metrics.context_share import MIN_CONTEXT_GAIN, context_share
from s2sbench.reports.results import RunResults
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import get_template
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
    assert result.results["sample_story_en"]["none"].acc == pytest.approx(0.5)
    # none requests carried no context at all
    bare = [r for r in model.seen if r.condition is Condition.NONE]
    assert len(bare) == 20 and all(r.text_context == "" for r in bare)

    from rich.console import Console

    from s2sbench.reports.table import print_summary

    console = Console(width=250, record=True)
    print_summary(RunResults.from_json(saved), console)
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
    print_summary(RunResults.from_json(saved), console)
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
