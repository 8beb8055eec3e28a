"""The score store: resume skips finished work, keys include the model, torn lines drop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_models import HashModel

from s2sbench import evaluate
from s2sbench.core.errors import StoreError
from s2sbench.scores.store import STORE_NAME, ScoreStore

TASKS = ["sample_story_en", "sample_cmmlu"]


def run(model: HashModel, out: Path, **kw) -> dict:
    return evaluate(
        model=model, tasks=TASKS, conditions=["t2t"], output_path=out, progress=False, **kw
    ).to_json()


def test_rerun_skips_finished_items(tmp_path: Path) -> None:
    first = HashModel()
    a = run(first, tmp_path, limit=10)
    assert first.calls == 20
    second = HashModel()
    b = run(second, tmp_path)
    assert second.calls == len_all() - 20  # only the new items
    third = HashModel()
    c = run(third, tmp_path)
    assert third.calls == 0
    assert c["results"] == b["results"]
    assert a["results"]["sample_story_en"]["t2t"]["n"] == 10


def len_all() -> int:
    from s2sbench.tasks.registry import BUILTIN_TASKS

    return sum(len(BUILTIN_TASKS[t].load()) for t in TASKS)


def test_cache_is_keyed_by_model(tmp_path: Path) -> None:
    a = run(HashModel("a"), tmp_path)
    other = HashModel("b")
    b = run(other, tmp_path)
    assert other.calls == len_all()  # nothing reused from model "a"
    assert a["results"] != b["results"]


def test_interrupted_run_resumes_to_same_result(tmp_path: Path) -> None:
    reference = run(HashModel(), tmp_path / "ref", log_samples=True)
    with pytest.raises(KeyboardInterrupt):
        run(HashModel(fail_after=30), tmp_path / "cut", log_samples=True)
    assert not (tmp_path / "cut" / "results.json").exists()
    resumed_model = HashModel()
    resumed = run(resumed_model, tmp_path / "cut", log_samples=True)
    assert resumed_model.calls == len_all() - 30
    assert resumed["results"] == reference["results"]
    for name in ("samples_sample_story_en_t2t.jsonl", "samples_sample_cmmlu_t2t.jsonl"):
        assert (tmp_path / "cut" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes()


def test_torn_last_line_is_dropped(tmp_path: Path) -> None:
    run(HashModel(), tmp_path, limit=3)
    store_file = tmp_path / STORE_NAME
    lines = store_file.read_bytes().splitlines(keepends=True)
    store_file.write_bytes(b"".join(lines[:-1]) + lines[-1][:25])
    model = HashModel()
    run(model, tmp_path, limit=3)
    assert model.calls == 1  # only the torn request is recomputed
    assert all(json.loads(line) for line in store_file.read_text().splitlines())


def test_damaged_middle_line_is_an_error(tmp_path: Path) -> None:
    run(HashModel(), tmp_path, limit=3)
    store_file = tmp_path / STORE_NAME
    lines = store_file.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"gold": 0', '"gold": 1')
    store_file.write_text("".join(lines))
    with pytest.raises(StoreError, match=rf"{STORE_NAME}:2: damaged record"):
        run(HashModel(), tmp_path, limit=3)


def test_second_writer_is_refused(tmp_path: Path) -> None:
    with ScoreStore(tmp_path), pytest.raises(StoreError, match="another s2sbench run"):
        ScoreStore(tmp_path)


def test_output_path_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        run(HashModel(), target)


def test_samples_file_fields(tmp_path: Path) -> None:
    run(HashModel(), tmp_path, limit=2, log_samples=True)
    rows = [json.loads(x) for x in (tmp_path / "samples_sample_cmmlu_t2t.jsonl").open()]
    assert len(rows) == 8
    assert {
        "item_id",
        "continuation_index",
        "is_right",
        "logprob_sum",
        "n_tokens",
        "loss",
        "prompt",
    } <= set(rows[0])
    assert sum(r["is_right"] for r in rows) == 2
    assert rows[0]["loss"] == pytest.approx(-rows[0]["logprob_sum"] / rows[0]["n_tokens"])
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["config"]["model_fingerprint"] == {"adapter": "hash", "salt": "a"}
    assert set(results["results"]["sample_cmmlu"]["t2t"]) >= {
        "acc",
        "n",
        "mean_right_loss",
        "mean_wrong_loss",
        "acc_argmax",
    }


def test_results_files_follow_the_umask(tmp_path: Path) -> None:
    """Atomic writes go through mkstemp (0600); the final files must be as readable as any other."""
    import os

    old = os.umask(0o022)
    try:
        run(HashModel(), tmp_path, limit=2, log_samples=True)
    finally:
        os.umask(old)
    assert (tmp_path / "results.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "samples_sample_cmmlu_t2t.jsonl").stat().st_mode & 0o777 == 0o644
