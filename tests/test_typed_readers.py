"""One reader for every typed result class, derived from its dataclass fields, and
results.json written from typed objects built once from the metrics.

``read_fields`` (s2sbench/reports/result_fields.py) reads a class by its fields and
their type hints: nested typed classes, optional fields, lists and mappings of them,
unknown keys kept in ``extra``, a wrong type refused with the JSON path named.
``Evaluation.finish`` builds ``CellMetrics`` and ``PairDegradation`` straight from the
metric code (``CellMetrics.measured``, ``degradation_results``), never by parsing dicts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_models import HashModel

import s2sbench.reports.result_degradation as result_degradation
import s2sbench.reports.result_metrics as result_metrics
import s2sbench.reports.results as results_module
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore
from s2sbench.evaluator import evaluate
from s2sbench.metrics.accuracy import TaskMetrics
from s2sbench.metrics.degradation import PairComparison
from s2sbench.metrics.wer import WERResult
from s2sbench.reports.result_degradation import (
    ContextShare,
    McNemarResult,
    PairDegradation,
    SubjectGap,
    degradation_results,
)
from s2sbench.reports.result_fields import ABSENT, MalformedResults, read_fields
from s2sbench.reports.result_metrics import CellMetrics, SkippedCell


@dataclass(frozen=True)
class Leaf:
    count: int
    label: str | None = None
    acc_first: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Tree:
    name: str
    score: float | None
    leaf: Leaf | None = None
    leaves: tuple[Leaf, ...] = ()
    by_key: Mapping[str, Leaf] | None = None
    tags: list[str] = field(default_factory=list)
    version: str | int | float | None = None
    kind: str = "tree"
    level: int = field(default=2, metadata={ABSENT: 1})
    extra: Mapping[str, Any] = field(default_factory=dict)


FULL = {
    "name": "t",
    "score": 0.5,
    "leaf": {"count": 1, "label": "a", "new": True},
    "leaves": [{"count": 2}, {"count": 3, "label": None}],
    "by_key": {"k": {"count": 4, "acc_first": 0.25}},
    "tags": ["x", "y"],
    "version": "1.0",
    "level": 5,
    "future": [1, 2],
}


def test_nested_optional_and_collection_fields_are_read() -> None:
    tree = read_fields(Tree, FULL, "tree")
    assert tree == Tree(
        name="t",
        score=0.5,
        leaf=Leaf(1, "a", extra={"new": True}),
        leaves=(Leaf(2), Leaf(3)),
        by_key={"k": Leaf(4, acc_first=0.25)},
        tags=["x", "y"],
        version="1.0",
        level=5,
        extra={"future": [1, 2]},
    )
    assert isinstance(tree.leaves, tuple) and isinstance(tree.tags, list)


def test_absent_keys_take_the_default_or_the_absent_metadata() -> None:
    tree = read_fields(Tree, {"name": "t", "score": None}, "tree")
    assert tree == Tree(name="t", score=None, level=1)  # level: absent means 1, not 2
    assert (tree.leaf, tree.leaves, tree.by_key, tree.kind) == (None, (), None, "tree")


def test_renames_apply_to_nested_objects_and_given_fields_are_not_read() -> None:
    data = {"count": 1, "acc_t2t": 0.75}
    assert read_fields(Leaf, data, "x", renames={"acc_first": "acc_t2t"}) == Leaf(1, None, 0.75)
    assert read_fields(Leaf, data, "x").extra == {"acc_t2t": 0.75}  # not renamed: unknown
    tree = read_fields(
        Tree, {"score": 1, "by_key": {"k": data}}, "x", renames={"acc_first": "acc_t2t"},
        given={"name": "given"},
    )  # fmt: skip
    assert tree.name == "given" and tree.by_key == {"k": Leaf(1, None, 0.75)}


WRONG = [
    ({"score": "high"}, "'tree.score' is not a number"),
    ({"score": True}, "'tree.score' is not a number"),
    ({"name": 3}, "'tree.name' is not text"),
    ({"name": None}, "'tree' lacks 'name'"),
    ({"leaf": {"count": 1.5}}, "'tree.leaf.count' is not a whole number"),
    ({"leaf": {"label": "a"}}, "'tree.leaf' lacks 'count'"),
    ({"leaf": [1]}, "'tree.leaf' is not an object"),
    ({"leaves": {"count": 1}}, "'tree.leaves' is not a list of objects"),
    ({"leaves": [{"count": 1}, 2]}, "'tree.leaves' is not a list of objects"),
    ({"leaves": [{"count": 1}, {"count": "2"}]}, "'tree.leaves[1].count' is not a whole number"),
    ({"by_key": []}, "'tree.by_key' is not an object"),
    ({"by_key": {"k": {"count": None}}}, "'tree.by_key.k' lacks 'count'"),
    ({"tags": "x"}, "'tree.tags' is not a list"),
    ({"tags": ["x", 1]}, "'tree.tags[1]' is not text"),
    ({"version": {"v": 1}}, "'tree.version' is not text or a number"),
    ({"kind": None}, "'tree' lacks 'kind'"),
]


@pytest.mark.parametrize(("change", "message"), WRONG, ids=[w[1] for w in WRONG])
def test_a_wrong_type_is_refused_with_its_key_named(change: dict[str, Any], message: str) -> None:
    data = {**FULL, **change}
    with pytest.raises(MalformedResults) as caught:
        read_fields(Tree, data, "tree")
    assert caught.value.what == message


def test_a_missing_required_key_is_named() -> None:
    with pytest.raises(MalformedResults, match="'tree' lacks 'score'"):
        read_fields(Tree, {"name": "t"}, "tree")
    with pytest.raises(MalformedResults, match="^no 'name'$"):  # at the top of a file
        read_fields(Tree, {"score": 1}, "")


def _sample(tp: Any, seed: int) -> Any:
    """A valid, distinct value of an annotation: the first non-None member of a union."""
    if typing.get_origin(tp) in (typing.Union, __import__("types").UnionType):
        tp = next(t for t in typing.get_args(tp) if t is not type(None))
    if tp is int:
        return 3 + seed
    if tp is float:
        return 0.125 + seed
    if tp is str:
        return f"s{seed}"
    if dataclasses.is_dataclass(tp):
        return _filled(tp, seed)  # type: ignore[arg-type]
    if typing.get_origin(tp) is Mapping:
        return {"subject": _sample(typing.get_args(tp)[1], seed)}
    raise AssertionError(f"no sample for {tp}")


def _filled(cls: type, seed: int = 0) -> Any:
    """``cls`` with every field but ``extra`` (and a pair's name) set to its own value."""
    hints = typing.get_type_hints(cls)
    values = {
        f.name: _sample(hints[f.name], seed + i)
        for i, f in enumerate(dataclasses.fields(cls))
        if f.name not in ("extra", "pair")
    }
    return cls(**values, **({"pair": "t2t->s2t"} if "pair" in hints else {}))


@pytest.mark.parametrize(
    "cls", [CellMetrics, SkippedCell, McNemarResult, ContextShare, SubjectGap, PairDegradation]
)
def test_every_field_of_every_result_class_survives_the_round_trip(cls: type) -> None:
    """A field declared on a class is written and read back with no reader code of its own."""
    value = _filled(cls)
    back: Any
    if cls is SubjectGap:
        data = value.to_json("t2t->s2t")
        back = SubjectGap.from_json(json.loads(json.dumps(data)), "t2t->s2t", "s")
    elif cls is PairDegradation:
        data = value.to_json()
        assert "acc_t2t" in data and "acc_s2t" in data["by_subject"]["subject"]
        back = PairDegradation.from_json(json.loads(json.dumps(data)), "t2t->s2t", "d")
    else:
        back = cls.from_json(json.loads(json.dumps(value.to_json())), "x")  # type: ignore[attr-defined]
    assert back == value and all(v is not None for v in dataclasses.asdict(back).values())


class HearingHash(HashModel):
    """``HashModel`` that also scores heard contexts, so the run has degradation entries."""

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return "text continuations only" if condition.continuation_is_speech else None

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, request in enumerate(requests):
            key = f"{self.salt}|{request.item_id}|{request.condition.value}"
            losses = [
                hashlib.sha256(f"{key}|{c}".encode()).digest()[0] for c in request.continuations
            ]
            yield index, [ContinuationScore(-(1 + loss / 25.5), 1) for loss in losses]


def test_a_run_writes_results_json_without_parsing_its_own_dicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every reader is switched off: ``finish`` must build the typed objects directly, and
    what it writes is exactly their ``to_json``."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("results.json content was parsed during the run")

    for module in (result_metrics, result_degradation, results_module):
        monkeypatch.setattr(module, "read_fields", refuse)
    monkeypatch.setattr(result_metrics, "read_value", refuse)
    result = evaluate(
        HearingHash(salt="typed-readers"), tasks="sample_story_en,sample_cmmlu",
        conditions="t2t,s2t,none", limit=8, output_path=tmp_path, progress=False,
    )  # fmt: skip
    monkeypatch.undo()
    written = (tmp_path / "results.json").read_text(encoding="utf-8")
    assert json.dumps(json.loads(written)) == json.dumps(result.to_json())
    pair = result.degradation["sample_story_en"]["t2t->s2t"]
    assert isinstance(pair, PairDegradation) and isinstance(pair.context_share, ContextShare)
    assert isinstance(result.results["sample_cmmlu"]["none"], CellMetrics)
    assert pair.by_subject is None and result.degradation["sample_cmmlu"]["t2t->s2t"].by_subject


def test_cell_metrics_from_the_metric_code_turn_nan_into_none() -> None:
    empty = TaskMetrics(0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, 0, 0)
    asr = WERResult(wer=math.nan, edits=0, ref_words=0, n_pairs=0, unit="char", empty=2)
    cell = CellMetrics.measured(empty, asr, truncated=1)
    assert cell.acc is None and cell.mean_right_loss is None and cell.asr_error_rate is None
    assert (cell.n, cell.asr_unit, cell.empty_transcripts, cell.truncated_contexts) == (
        0, "char", 2, 1
    )  # fmt: skip
    assert CellMetrics.measured(empty).asr_unit is None


def _comparison(**stats: Any) -> PairComparison:
    return PairComparison("task", Condition.T2T, Condition.S2T, {"n_items": 2, **stats})


def test_degradation_results_are_typed_straight_from_the_comparisons() -> None:
    mcnemar = {"a_only": 1, "b_only": 0, "p_value": 1.0, "unit": "item"}
    stats = {"acc_a": 1.0, "acc_b": 0.5, "gap": 0.5, "ci_low": math.nan, "mcnemar": mcnemar}
    stats["by_subject"] = {"math": {"n_items": 2, "acc_a": 1.0, "acc_b": 0.5, "gap": 0.5}}
    typed = degradation_results([_comparison(**stats)])["task"]["t2t->s2t"]
    assert typed.pair == "t2t->s2t" and (typed.acc_first, typed.acc_second) == (1.0, 0.5)
    assert typed.ci_low is None  # NaN is undefined: None, as JSON writes it
    assert typed.mcnemar == McNemarResult(1, 0, 1.0, "item")
    assert typed.by_subject == {"math": SubjectGap(2, 0.5, 1.0, 0.5)}
    empty = degradation_results([_comparison()])["task"]["t2t->s2t"]
    assert empty.to_json() == {"acc_t2t": None, "acc_s2t": None, "n_items": 2}


def test_a_statistic_without_a_field_is_an_error_not_a_silent_loss() -> None:
    with pytest.raises(TypeError, match="effect_size"):
        degradation_results([_comparison(effect_size=0.3)])
