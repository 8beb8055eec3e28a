"""results.json read into typed, frozen classes and written back key for key.

``RunResults.from_json`` / ``to_json`` must lose nothing: every results.json a
run writes survives ``to_json(from_json(d)) == d`` byte for byte (key order
included) and ``from_json(to_json(x)) == x``, on files that real runs of these
tests write (metrics with and without the ASR group and the truncation count,
skipped cells, degradation with per-subject rows, a defined and an undefined
context share). Keys this version does not know land in ``extra`` on every
level; a malformed file is one ``DataError`` line naming the file, the bad key
and what to do.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fake_models import HashModel

from s2sbench.cli.main import main
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import DataError
from s2sbench.core.scoring import ContinuationScore
from s2sbench.core.strict_json import json_safe
from s2sbench.evaluator import evaluate
from s2sbench.metrics.accuracy import task_metrics
from s2sbench.metrics.degradation import pair_comparisons
from s2sbench.reports.result_degradation import ContextShare, PairDegradation
from s2sbench.reports.result_metrics import CellMetrics, SkippedCell
from s2sbench.reports.results import RESULTS_FORMAT_VERSION, EvalResult, RunResults
from s2sbench.reports.run_records import load_run

TASKS = "sample_story_en,sample_cmmlu"


class Listener:
    """Right on an item when a hash of (item, condition) falls under the condition's rate.

    Spoken contexts get a transcript in ``extra`` (a fixed, mostly wrong one; about every
    fifth one empty), as a cascade stores it, so the run reports an ASR error rate.
    """

    name = "listener"

    def __init__(self, rates: dict[str, int]):
        self.rates = rates

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": "listener", "rates": self.rates}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return "text continuations only" if condition.continuation_is_speech else None

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, request in enumerate(requests):
            cond = request.condition.value
            digest = hashlib.sha256(f"{request.item_id}|{cond}".encode()).digest()
            good = digest[0] % 10 < self.rates[cond]
            extra: dict[str, Any] = {}
            if request.condition.context_is_speech:
                extra["transcript"] = "" if digest[1] % 5 == 0 else "once upon a time 从前"
            scores = []
            for local in range(len(request.continuations)):
                item_index = request.part[local] if request.part else local
                loss = 1.0 + digest[2] / 1000 if (item_index == request.gold) == good else 2.0
                scores.append(ContinuationScore(-loss, 1, extra))
            yield index, scores


def _run(out: Path, model: Any, conditions: str, **options: Any) -> tuple[EvalResult, Path]:
    result = evaluate(
        model, tasks=TASKS, conditions=conditions, limit=12, output_path=out, progress=False,
        **options,
    )  # fmt: skip
    return result, out / "results.json"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[EvalResult, Path]]:
    root = tmp_path_factory.mktemp("typed")
    return {
        # t2t well above none: the context share is defined
        "defined": _run(root / "a", Listener({"t2t": 9, "s2t": 5, "none": 1}), "t2t,s2t,none"),
        # t2t no better than none: the share is undefined, its CI null
        "undefined": _run(
            root / "b",
            Listener({"t2t": 5, "s2t": 3, "none": 5}),
            "t2t,s2t,none",
            long_context="truncate",
        ),
        # text only: s2t skipped, no degradation, no ASR group
        "skipped": _run(root / "c", HashModel(salt="typed"), "t2t,s2t"),
    }


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["defined", "undefined", "skipped"])
def test_every_results_json_a_run_writes_round_trips_exactly(
    runs: dict[str, tuple[EvalResult, Path]], name: str
) -> None:
    result, path = runs[name]
    data = json.loads(_text(path))
    typed = RunResults.from_json(data)
    assert json.dumps(typed.to_json()) == json.dumps(data)  # same keys, values and order
    assert RunResults.from_json(typed.to_json()) == typed
    # what the run returned is what it wrote, and equal to what is read back
    assert result.to_json() == data
    assert result.saved() == typed == load_run(path.parent).results


@pytest.mark.parametrize("name", ["defined", "undefined"])
def test_the_file_holds_what_the_metrics_compute_in_their_order(
    runs: dict[str, tuple[EvalResult, Path]], name: str
) -> None:
    """Independent of the typed classes (which also write the file): the JSON layout of
    format 1 is the metrics' own dicts, key for key and in their order."""
    result, path = runs[name]
    data = json.loads(_text(path))
    expected: dict[str, dict[str, Any]] = {}  # format 1's layout of the comparisons, by hand
    for c in pair_comparisons(result.cells, seed=result.config.seed or 1234):
        first, second = f"acc_{c.first.value}", f"acc_{c.second.value}"
        stats = json.loads(json.dumps(json_safe(c.stats)))
        entry = {first: stats.pop("acc_a", None), second: stats.pop("acc_b", None), **stats}
        for subject, sub in entry.get("by_subject", {}).items():
            entry["by_subject"][subject] = {
                "n_items": sub["n_items"], "gap": sub["gap"],
                first: sub["acc_a"], second: sub["acc_b"],
            }  # fmt: skip
        if c.share is not None:
            entry["context_share"] = json_safe(c.share)
        expected.setdefault(c.task, {})[f"{c.first.value}->{c.second.value}"] = entry
    assert json.dumps(data["degradation"]) == json.dumps(expected)
    for cell in result.cells:
        written = data["results"][cell.task.name][cell.condition.value]
        core = json_safe(task_metrics(cell.records, cell.task.kind).to_dict())
        assert list(written)[: len(core)] == list(core) and {k: written[k] for k in core} == core
        rest = list(written)[len(core) :]
        asr = ["asr_error_rate", "asr_unit", "empty_transcripts"]
        assert rest == (asr if cell.condition.context_is_speech else []) + (
            ["truncated_contexts"] if name == "undefined" else []
        )


def test_the_runs_cover_every_optional_block(runs: dict[str, tuple[EvalResult, Path]]) -> None:
    """The round trip above is only as good as the variety of files it sees."""
    defined = RunResults.from_json(json.loads(_text(runs["defined"][1])))
    undefined = RunResults.from_json(json.loads(_text(runs["undefined"][1])))
    skipped = RunResults.from_json(json.loads(_text(runs["skipped"][1])))
    heard = defined.results["sample_story_en"]["s2t"]
    assert heard.asr_unit == "word" and heard.asr_error_rate and heard.empty_transcripts
    assert defined.results["sample_cmmlu"]["s2t"].asr_unit == "char"
    assert defined.results["sample_story_en"]["t2t"].asr_unit is None
    assert undefined.results["sample_story_en"]["t2t"].truncated_contexts == 0
    assert defined.results["sample_story_en"]["t2t"].truncated_contexts is None
    pair = defined.degradation["sample_cmmlu"]["t2t->s2t"]
    assert pair.by_subject and pair.mcnemar and pair.mcnemar.unit == "pair"
    assert pair.conditions == ("t2t", "s2t")
    share = defined.degradation["sample_story_en"]["t2t->s2t"].context_share
    assert share is not None and share.share is not None and share.n_boot_undefined is not None
    gone = undefined.degradation["sample_story_en"]["t2t->s2t"].context_share
    assert gone is not None and gone.share is None and gone.ci_low is None
    assert gone.undefined_reason and gone.context_gain is not None
    assert skipped.skipped and all(s.condition == "s2t" for s in skipped.skipped)
    assert skipped.degradation == {}


def test_the_typed_values_are_the_written_values(runs: dict[str, tuple[EvalResult, Path]]) -> None:
    result, path = runs["defined"]
    data = json.loads(_text(path))
    cell = data["results"]["sample_story_en"]["s2t"]
    typed = result.results["sample_story_en"]["s2t"]
    assert isinstance(typed, CellMetrics)
    assert (typed.n, typed.acc, typed.asr_error_rate) == (
        cell["n"], cell["acc"], cell["asr_error_rate"]
    )  # fmt: skip
    entry = data["degradation"]["sample_story_en"]["t2t->s2t"]
    pair = result.degradation["sample_story_en"]["t2t->s2t"]
    assert isinstance(pair, PairDegradation) and isinstance(pair.context_share, ContextShare)
    assert (pair.acc_first, pair.acc_second, pair.gap) == (
        entry["acc_t2t"], entry["acc_s2t"], entry["gap"]
    )  # fmt: skip
    assert pair.mcnemar is not None and pair.mcnemar.p_value == entry["mcnemar"]["p_value"]
    assert pair.context_share.share == entry["context_share"]["share"]
    assert result.config.model_id == data["config"]["model_id"]
    assert result.config.task("sample_cmmlu").kind == "choice"


def test_the_classes_are_frozen(runs: dict[str, tuple[EvalResult, Path]]) -> None:
    result = runs["defined"][0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.results["sample_story_en"]["t2t"].acc = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.format_version = 2  # type: ignore[misc]


def _with_unknown_keys(data: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(data))
    data["newer_block"] = {"x": 1}
    data["results"]["sample_story_en"]["t2t"]["acc_calibrated"] = 0.7
    entry = data["degradation"]["sample_cmmlu"]["t2t->s2t"]
    entry["effect_size"] = 0.3
    entry["mcnemar"]["odds_ratio"] = 2.0
    next(iter(entry["by_subject"].values()))["ci_low"] = 0.1
    entry["context_share"]["method"] = "percentile"
    data["skipped"].append({"task": "t", "condition": "s2s", "reason": "r", "code": 7})
    return data


def test_unknown_keys_are_kept_in_extra_on_every_level(
    runs: dict[str, tuple[EvalResult, Path]],
) -> None:
    data = _with_unknown_keys(json.loads(_text(runs["defined"][1])))
    typed = RunResults.from_json(data)
    assert typed.to_json() == data and json.dumps(typed.to_json()) == json.dumps(data)
    assert typed.extra == {"newer_block": {"x": 1}}
    assert typed.results["sample_story_en"]["t2t"].extra == {"acc_calibrated": 0.7}
    pair = typed.degradation["sample_cmmlu"]["t2t->s2t"]
    assert pair.extra == {"effect_size": 0.3}
    assert pair.mcnemar is not None and pair.mcnemar.extra == {"odds_ratio": 2.0}
    assert pair.by_subject and next(iter(pair.by_subject.values())).extra == {"ci_low": 0.1}
    assert pair.context_share is not None and pair.context_share.extra == {"method": "percentile"}
    assert typed.skipped[-1] == SkippedCell("t", "s2s", "r", {"code": 7})


def test_an_entry_without_paired_items_round_trips() -> None:
    entry = {"acc_t2s": None, "acc_s2s": None, "n_items": 0}
    pair = PairDegradation.from_json(entry, "t2s->s2s", "degradation.x.t2s->s2s")
    assert pair.to_json() == entry and pair.mcnemar is None and pair.n_items == 0


def test_a_version_1_file_without_a_version_key_still_reads(
    runs: dict[str, tuple[EvalResult, Path]], tmp_path: Path
) -> None:
    """The first results.json files carried no ``format_version``: they are version 1."""
    data = json.loads(_text(runs["skipped"][1]))
    assert data.pop("format_version") == RESULTS_FORMAT_VERSION == 1
    (tmp_path / "results.json").write_text(json.dumps(data), encoding="utf-8")
    run = load_run(tmp_path)
    assert run.results.format_version == 1
    assert run.results.results["sample_story_en"]["t2t"].n == 12


BAD = [
    (["results", "sample_story_en", "t2t", "acc"], "high", "'results.sample_story_en.t2t.acc'"),
    (["results", "sample_story_en", "t2t", "n"], None, "'results.sample_story_en.t2t' lacks"),
    (["results", "sample_story_en", "t2t", "asr_unit"], 3, "t2t.asr_unit' is not text"),
    (["results", "sample_story_en"], [1], "'results.sample_story_en' is not an object"),
    (["degradation", "sample_story_en", "t2t->s2t", "mcnemar"], 5, "t2t->s2t.mcnemar' is not"),
    (["degradation", "sample_story_en", "t2t->s2t", "gap"], "big", "t2t->s2t.gap' is not"),
    (["degradation", "sample_cmmlu", "t2t->s2t", "by_subject"], [], "by_subject' is not"),
    (["degradation", "sample_story_en", "t2t->s2t", "context_share", "share"], "x", "share."),
    (["skipped"], {"a": 1}, "'skipped' is not a list of objects"),
    (["config", "tasks"], [1], "'config.tasks' is not an object"),
    (["config", "conditions"], "t2t", "'config.conditions' is not a list"),
]


@pytest.mark.parametrize(("keys", "value", "named"), BAD, ids=[".".join(b[0]) for b in BAD])
def test_a_malformed_results_json_is_one_data_error_line(
    runs: dict[str, tuple[EvalResult, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    keys: list[str],
    value: Any,
    named: str,
) -> None:
    data = json.loads(_text(runs["defined"][1]))
    target = data
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match="not an s2sbench results file") as caught:
        load_run(tmp_path)
    assert named in caught.value.what and caught.value.where == str(path)
    assert main(["report", str(tmp_path), "--output", str(tmp_path / "r.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"s2sbench: error: {path}: ") and named in err
    assert " -- give the --output-path" in err
    assert not (tmp_path / "r.md").exists()


def test_a_file_that_is_not_json_is_one_data_error_line(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text('{"results": {', encoding="utf-8")
    with pytest.raises(DataError, match="cannot parse it as JSON") as caught:
        load_run(tmp_path)
    assert caught.value.where == str(tmp_path / "results.json") and caught.value.hint
