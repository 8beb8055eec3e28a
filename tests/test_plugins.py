"""The documented plugin example (docs/plugin_example.py) runs end to end as module:object."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import s2sbench
from s2sbench.core.errors import ConfigError, ModelError
from s2sbench.models.registry import get_model

DOCS = Path(__file__).resolve().parent.parent / "docs"
PLUGIN = "plugin_example:ContextBigram"


@pytest.fixture(autouse=True)
def docs_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(DOCS))


def test_plugin_runs_through_evaluate(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = s2sbench.evaluate(
        model=PLUGIN,
        model_args="alpha=0.5",
        tasks=["sample_story_en"],
        conditions=["t2t", "s2t"],
        output_path=out,
        progress=False,
    )
    metrics = result.results["sample_story_en"]["t2t"]
    assert "s2t" not in result.results["sample_story_en"]
    assert [s.condition for s in result.skipped] == ["s2t"]
    assert "text" in result.skipped[0].reason
    assert result.config["model_fingerprint"] == {
        "adapter": "context-bigram",
        "version": 1,
        "alpha": 0.5,
        "vocab_size": 5000,
    }
    assert (out / "results.json").is_file() and (out / "scores.jsonl").is_file()
    assert metrics

    from plugin_example import ContextBigram

    direct = ContextBigram(alpha=0.5)
    cell = result.cells[0]
    expected = dict(direct.score(cell.requests))
    for index, record in enumerate(cell.records):
        for got, want in zip(record.scores, expected[index]):
            assert got.n_tokens == want.n_tokens > 0
            assert math.isclose(got.logprob_sum, want.logprob_sum, rel_tol=1e-12)

    again = s2sbench.evaluate(
        model=PLUGIN,
        model_args="alpha=0.5",
        tasks=["sample_story_en"],
        conditions=["t2t"],
        output_path=out,
        progress=False,
    )
    assert again.config["scored_now"] == 0
    assert again.config["reused_from_store"] == len(cell.requests)
    other = s2sbench.evaluate(
        model=PLUGIN,
        model_args={"alpha": 2.0},
        tasks=["sample_story_en"],
        conditions=["t2t"],
        output_path=out,
        progress=False,
    )
    assert other.config["scored_now"] == len(cell.requests)


def test_plugin_errors_are_clear() -> None:
    with pytest.raises(ModelError, match="no object 'Nope'"):
        get_model("plugin_example:Nope")
    with pytest.raises(ModelError, match="cannot import"):
        get_model("no_such_plugin_module:Thing")
    with pytest.raises(ConfigError, match="alpha > 0"):
        get_model(PLUGIN, "alpha=-1")
    model = get_model(PLUGIN, "alpha=1", batch_size=8, device="cpu", long_audio="chunk")
    assert model.name == "context-bigram"
