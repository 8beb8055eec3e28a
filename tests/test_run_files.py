"""A rerun never loses earlier results, and results files are strict JSON.

Rerunning the same configuration into an output directory rewrites its
results. A run of another configuration keeps the earlier ``results.json`` and
samples files, moved to names carrying the earlier run's start time, and says
so in one line; until its own results are ready it touches nothing, so a run
that fails half way leaves the earlier files byte-identical. Every JSON file
s2sbench writes parses with a strict parser (no NaN, no Infinity).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from s2sbench.cli.main import main
from s2sbench.core.errors import StoreError
from s2sbench.core.strict_json import write_json, write_jsonl
from s2sbench.reports import run_files

MODEL = ["--model", "fake_models:HashModel"]
BASE = [*MODEL, "--tasks", "sample_story_en", "--conditions", "t2t", "--limit", "6"]
SAMPLES = "samples_sample_story_en_t2t.jsonl"


def run(out: Path, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["run", *args, "--output-path", str(out), "--log-samples", "--no-progress"])
    return code, capsys.readouterr().err


def strict(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"non-strict JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


@pytest.fixture
def earlier(tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    """A finished run (6 stories, samples logged) whose results.json ended at a known time.

    Its recorded start (``config.started_at``) is removed, as in results.json files written
    before it was recorded, so the start comes from the file's time less its duration.
    """
    out = tmp_path / "out"
    assert run(out, capsys, *BASE) == (0, "")
    results = out / "results.json"
    data = strict(results.read_text())
    del data["config"]["started_at"]
    write_json(results, data)
    seconds = data["config"]["seconds"]
    ended = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc).timestamp()
    os.utime(results, (ended, ended + 0.5 + seconds))  # started 05:06:07.5 UTC
    return out


STAMP = "2026-03-04T05-06-07Z"


def test_the_same_configuration_rewrites_its_results(
    earlier: Path, capsys: pytest.CaptureFixture
) -> None:
    before = files(earlier)
    assert run(earlier, capsys, *BASE, "--batch-size", "3") == (0, "")  # batch size: no change
    after = files(earlier)
    assert sorted(after) == sorted(before)  # nothing moved aside
    assert after[SAMPLES] == before[SAMPLES]
    new, old = strict(after["results.json"].decode()), strict(before["results.json"].decode())
    assert new["results"] == old["results"] and new["config"]["reused_from_store"] == 6


CHANGES = {
    "limit": ["--limit", "3"],
    "tasks": ["--tasks", "sample_story_en,sample_cmmlu"],
    "conditions": ["--conditions", "t2t,s2t"],
    "model_args": ["--model-args", "salt=b"],
    "seed": ["--seed", "7"],
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_another_configuration_keeps_the_earlier_results_beside(
    change: str, earlier: Path, capsys: pytest.CaptureFixture
) -> None:
    before = files(earlier)
    code, err = run(earlier, capsys, *BASE, *CHANGES[change])
    assert code == 0
    assert len(err.splitlines()) == 1 and err.startswith("s2sbench: earlier results"), err
    assert f"results_{STAMP}.json" in err and change in err and "1 samples file" in err
    after = files(earlier)
    assert after[f"results_{STAMP}.json"] == before["results.json"]
    assert after[f"samples_sample_story_en_t2t_{STAMP}.jsonl"] == before[SAMPLES]
    assert after["results.json"] != before["results.json"]
    new = strict(after["results.json"].decode())
    old = strict(before["results.json"].decode())
    assert change in run_files.differences(old["config"], new["config"])


def test_a_run_that_fails_half_way_leaves_the_earlier_files_untouched(
    earlier: Path, capsys: pytest.CaptureFixture
) -> None:
    before = files(earlier)
    code, err = run(earlier, capsys, *BASE, "--limit", "20", "--model-args", "fail_after=3")
    assert code == 130 and "rerun the same command to resume" in err
    after = files(earlier)
    store = "scores.jsonl"
    assert after[store].startswith(before[store]) and len(after[store]) > len(before[store])
    assert {k: v for k, v in after.items() if k != store} == {
        k: v for k, v in before.items() if k != store
    }
    code, err = run(earlier, capsys, *BASE, "--limit", "20")  # finished: now the earlier moves
    assert code == 0 and f"results_{STAMP}.json" in err
    assert files(earlier)[f"results_{STAMP}.json"] == before["results.json"]


def test_a_kill_between_the_moves_loses_nothing(
    earlier: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Samples move first: if results.json's own move fails, the rerun moves it to the same name."""
    before = files(earlier)
    real_rename = os.rename

    def rename(source: Any, target: Any) -> None:
        if Path(source).name == "results.json":
            raise OSError(28, "No space left on device", str(source))
        real_rename(source, target)

    monkeypatch.setattr(run_files.os, "rename", rename)
    code, err = run(earlier, capsys, *BASE, "--limit", "3")
    assert code == 2 and "cannot move the earlier results aside" in err
    assert len(err.splitlines()) == 1 and str(earlier / "results.json") in err
    monkeypatch.undo()
    assert files(earlier)["results.json"] == before["results.json"]
    code, err = run(earlier, capsys, *BASE, "--limit", "3")
    assert code == 0, err
    after = files(earlier)
    assert after[f"results_{STAMP}.json"] == before["results.json"]
    assert after[f"samples_sample_story_en_t2t_{STAMP}.jsonl"] == before[SAMPLES]


def test_two_earlier_runs_of_the_same_second_get_distinct_names(
    earlier: Path, capsys: pytest.CaptureFixture
) -> None:
    (earlier / f"results_{STAMP}.json").write_text("an archive already there")
    code, err = run(earlier, capsys, *BASE, "--limit", "2")
    assert code == 0 and f"results_{STAMP}-2.json" in err
    assert (earlier / f"results_{STAMP}.json").read_text() == "an archive already there"
    assert (earlier / f"samples_sample_story_en_t2t_{STAMP}-2.jsonl").is_file()


def test_a_recorded_start_time_names_the_files(
    earlier: Path, capsys: pytest.CaptureFixture
) -> None:
    data = strict((earlier / "results.json").read_text())
    data["config"]["started_at"] = "2025-12-31T23:59:58+00:00"
    data["results"]["sample_story_en"]["t2t"]["ci"] = [0.1, 0.9]  # a newer metric: fine
    (earlier / "results.json").write_text(json.dumps(data))
    code, err = run(earlier, capsys, *BASE, "--limit", "2")
    assert code == 0 and "results_2025-12-31T23-59-58Z.json" in err


def test_a_results_json_s2sbench_did_not_write_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"accuracy": 0.9, "model": "mine"}\n')
    code, err = run(out, capsys, *BASE)
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(out / "results.json") in err and "not an s2sbench results file" in err
    assert files(out) == {"results.json": b'{"accuracy": 0.9, "model": "mine"}\n'}


# -- strict JSON --------------------------------------------------------------------------------
def test_json_files_never_hold_nan_or_infinity(tmp_path: Path) -> None:
    data = {"a": math.nan, "b": [math.inf, 1.5, -math.inf], "c": np.float32("nan"), "d": 2}
    write_json(tmp_path / "x.json", data)
    write_jsonl(tmp_path / "x.jsonl", [data])
    want = {"a": None, "b": [None, 1.5, None], "c": None, "d": 2}
    assert strict((tmp_path / "x.json").read_text()) == want
    assert strict((tmp_path / "x.jsonl").read_text()) == want


def test_results_of_a_run_are_strict_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    args = [*MODEL, "--tasks", "sample_story_en,sample_cmmlu", "--conditions", "t2t"]
    assert run(out, capsys, *args, "--limit", "0.1") == (0, "")
    for path in out.glob("*.json*"):
        text = path.read_text()
        for line in text.splitlines() if path.suffix == ".jsonl" else [text]:
            strict(line)
    results = strict((out / "results.json").read_text())["results"]
    assert results["sample_cmmlu"]["t2t"]["n"] == 17  # 10% of 176


def test_moving_aside_refuses_a_non_regular_results_file(tmp_path: Path) -> None:
    (tmp_path / "results.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(StoreError, match="symbolic link"):
        run_files.keep_earlier_results(tmp_path, {})
