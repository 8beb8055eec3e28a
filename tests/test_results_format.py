"""results.json and sample logs: format version, start date, wall time, versions, correctness.

Plus the lm-evaluation-harness conventions: ``sweep --log-samples`` and
``run --tasks list``.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fake_models import HashModel
from test_sweep import make_salt_run

from s2sbench.cli import main as cli_main
from s2sbench.evaluator import evaluate
from s2sbench.reports.results import RESULTS_FORMAT_VERSION

TASKS = "sample_story_en,sample_cmmlu"
OLD_KEYS = {"results", "degradation", "skipped", "config"}


@pytest.fixture(scope="module")
def hash_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, float]:
    out = tmp_path_factory.mktemp("fmt") / "run"
    before = time.time()
    evaluate(
        HashModel(salt="fmt"),
        tasks=TASKS,
        conditions="t2t",
        output_path=out,
        log_samples=True,
        progress=False,
    )
    return out, before, time.time()


def test_format_version_start_date_and_wall_time(hash_run: tuple[Path, float, float]) -> None:
    out, before, after = hash_run
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["format_version"] == RESULTS_FORMAT_VERSION == 1
    assert set(data) >= OLD_KEYS  # readers of the old keys keep working
    config = data["config"]
    assert config["started_at"].endswith("Z")
    started = datetime.strptime(config["started_at"], "%Y-%m-%dT%H:%M:%SZ")
    started = started.replace(tzinfo=timezone.utc).timestamp()
    assert int(before) <= started <= after
    assert config["seconds"] <= config["total_seconds"] <= after - before + 0.01


def test_versions_come_from_package_metadata_when_a_module_has_none() -> None:
    from importlib.metadata import version

    import pocketsphinx

    from s2sbench.core.provenance import versions

    assert not getattr(pocketsphinx, "__version__", None)  # why the metadata is needed
    assert versions()["pocketsphinx"] == version("pocketsphinx") != "?"


def test_sphinx_run_records_the_version_its_fingerprint_knows(tmp_path: Path) -> None:
    evaluate(
        "sphinx",
        tasks="sample_story_en",
        conditions="t2t",
        limit=2,
        output_path=tmp_path,
        progress=False,
    )
    config = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["config"]
    assert config["versions"]["pocketsphinx"] == config["model_fingerprint"]["asr"]["pocketsphinx"]


@pytest.mark.parametrize("task", TASKS.split(","))
def test_sample_rows_say_whether_their_item_is_right(
    hash_run: tuple[Path, float, float], task: str
) -> None:
    out, _, _ = hash_run
    rows = [
        json.loads(line)
        for line in (out / f"samples_{task}_t2t.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    by_item: dict[str, list[dict]] = {}
    for row in rows:
        by_item.setdefault(str(row["item_id"]), []).append(row)
    scores = []
    for item_rows in by_item.values():
        (gold,) = [r for r in item_rows if r["is_right"]]
        others = [r for r in item_rows if not r["is_right"]]
        assert gold["pair_correct"] is None
        for other in others:  # the reference tie rules: story strict, choice <=
            beats = (
                gold["loss"] < other["loss"]
                if task.endswith("_en")
                else gold["loss"] <= other["loss"]
            )
            assert other["pair_correct"] is beats
        expected = sum(o["pair_correct"] for o in others) / len(others)
        assert [r["correct"] for r in item_rows] == pytest.approx([expected] * len(item_rows))
        scores.append(expected)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]
    assert sum(scores) / len(scores) == pytest.approx(results[task]["t2t"]["acc"])
    assert 0 < sum(scores) < len(scores)  # both outcomes occur, so the check can fail


class TieEverywhere(HashModel):
    """Every continuation gets the same score: the tie rules decide every pair."""

    def score(self, requests):  # type: ignore[no-untyped-def]
        for index, scores in super().score(requests):
            yield index, [type(s)(-2.0, 1) for s in scores]


def test_sample_rows_follow_the_tie_rules(tmp_path: Path) -> None:
    evaluate(
        TieEverywhere(salt="tie"),
        tasks=TASKS,
        conditions="t2t",
        limit=3,
        output_path=tmp_path,
        log_samples=True,
        progress=False,
    )
    for task, right in (("sample_story_en", False), ("sample_cmmlu", True)):
        rows = [json.loads(line) for line in (tmp_path / f"samples_{task}_t2t.jsonl").open()]
        assert {r["pair_correct"] for r in rows if not r["is_right"]} == {right}
        assert {r["correct"] for r in rows} == {float(right)}  # story: a tie is wrong


def test_sweep_accepts_log_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        cli_main, "EXTRA_COMMANDS", [("s2sbench.cli.sweep_cmd", "add_sweep_parser")]
    )
    run = make_salt_run(tmp_path / "run")
    argv = ["sweep", "--checkpoints", str(run / "ckpt_*"), "--model", "test_sweep:FileSaltModel"]
    argv += ["--tasks", "sample_story_en", "--conditions", "t2t", "--limit", "4"]
    argv += ["--output-path", str(tmp_path / "out"), "--no-plots", "--no-progress"]
    assert cli_main.main([*argv, "--log-samples"]) == 0
    for ckpt in sorted(run.iterdir()):
        rows = (tmp_path / "out" / ckpt.name / "samples_sample_story_en_t2t.jsonl").read_text()
        assert len(rows.splitlines()) == 4 * 2
    assert cli_main.main([*argv, "--log_samples"]) == 0  # lm-eval's spelling too
    assert "0 checkpoints evaluated, 3 already finished" in capsys.readouterr().out


def test_tasks_list_lists_tasks_like_the_tasks_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli_main.main(["tasks"]) == 0
    expected = capsys.readouterr().out
    assert "sample_story_en" in expected and "sstorycloze" in expected
    assert cli_main.main(["run", "--tasks", "list"]) == 0
    assert capsys.readouterr().out == expected
    assert cli_main.main(["--tasks", "list"]) == 0  # 's2sbench --tasks list' means run
    assert capsys.readouterr().out == expected
    assert list(tmp_path.iterdir()) == []  # nothing was evaluated or written


def test_a_kept_earlier_run_is_named_by_its_recorded_start(
    hash_run: tuple[Path, float, float], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another configuration into the same folder keeps the earlier results under their
    ``started_at`` (not the file's time, which a copy or a backup changes)."""
    import os
    import shutil

    out = tmp_path / "out"
    shutil.copytree(hash_run[0], out)
    os.utime(out / "results.json", (1e9, 1e9))  # as a backup or copy can leave it: 2001
    started = json.loads((out / "results.json").read_text(encoding="utf-8"))["config"]
    stamp = started["started_at"].replace(":", "-")
    argv = ["run", "--model", "fake_models:HashModel", "--model-args", "salt=fmt"]
    argv += ["--tasks", "sample_story_en", "--conditions", "t2t", "--limit", "4"]
    assert cli_main.main([*argv, "--output-path", str(out), "--no-progress"]) == 0
    assert (out / f"results_{stamp}.json").is_file(), sorted(p.name for p in out.iterdir())
    capsys.readouterr()
