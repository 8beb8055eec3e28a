"""Reports (Markdown and HTML) and paired comparisons of runs and sweeps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fake_models import HashModel
from test_sweep import make_salt_run

from s2sbench.cli import main as cli_main
from s2sbench.evaluator import evaluate
from s2sbench.reports.compare import compare_runs
from s2sbench.reports.report import SECTION_TITLES, write_report
from s2sbench.sweeps.run_sweep import sweep

TASKS = "sample_story_en,sample_cmmlu"
LIMIT = 10


@pytest.fixture(scope="module")
def two_sweeps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two "recipes": salt-scored checkpoints that favour the right ending only when reading."""
    root = tmp_path_factory.mktemp("recipes")
    outs = []
    for tag in ("a", "b"):
        run = make_salt_run(root / f"run_{tag}", tag=tag)
        out = root / f"recipe_{tag}"
        sweep(
            str(run / "ckpt_*"),
            out,
            model="test_sweep:FileSaltModel",
            tasks=TASKS,
            conditions="t2t,s2t",
            limit=LIMIT,
            progress=False,
        )
        outs.append(out)
    return outs[0], outs[1]


def _story_outcomes(samples: Path) -> dict[str, bool]:
    """Right iff the right ending's mean loss is strictly lower (reference rule), per item."""
    losses: dict[str, dict[bool, float]] = {}
    for line in samples.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        losses.setdefault(row["item_id"], {})[row["is_right"]] = row["loss"]
    return {item: pair[True] < pair[False] for item, pair in losses.items()}


def test_markdown_report_has_every_section(two_sweeps: tuple[Path, Path], tmp_path: Path) -> None:
    recipe_a, _ = two_sweeps
    report = write_report([recipe_a], tmp_path / "rep" / "report.md", "md", examples_per_task=3)
    text = report.read_text(encoding="utf-8")
    for title in SECTION_TITLES:
        assert f"### {title}\n" in text
    last = json.loads((recipe_a / "ckpt_3_300_a" / "results.json").read_text())
    deg = last["degradation"]["sample_story_en"]["t2t->s2t"]
    row = re.search(
        r"^\| sample_story_en \| t2t->s2t \| (\d+) \| ([\d.]+) \| ([\d.]+) \| "
        r"([+-][\d.]+) \| \[([+-][\d.]+), ([+-][\d.]+)\] \|",
        text,
        re.M,
    )
    assert row is not None
    assert int(row[1]) == LIMIT and float(row[2]) == pytest.approx(100 * deg["acc_t2t"], abs=0.05)
    assert float(row[4]) == pytest.approx(100 * deg["gap"], abs=0.05)
    assert re.search(r"^\| sample_cmmlu \| t2t->s2t \| \w+ \| \d+ \|", text, re.M)  # subjects
    assert "steps 100, 200, 300" in text
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) == 6  # accuracy, loss and read-heard gap for two tasks
    assert all((report.parent / rel).stat().st_size > 1000 for rel in images)
    outcomes_t2t = _story_outcomes(recipe_a / "ckpt_3_300_a" / "samples_sample_story_en_t2t.jsonl")
    outcomes_s2t = _story_outcomes(recipe_a / "ckpt_3_300_a" / "samples_sample_story_en_s2t.jsonl")
    disagree = sum(outcomes_t2t[i] != outcomes_s2t[i] for i in outcomes_t2t)
    assert disagree > 0
    assert f"sample_story_en: {disagree} items disagree; showing {min(3, disagree)}." in text
    assert "(read right, heard wrong)\ncontext: " in text
    assert re.search(r"^heard \(raw ASR transcript\): heard \d+\.wav$", text, re.M)
    assert re.search(r"^\| \[\d\] \| right \| \d+\.\d{4} \| \d+\.\d{4} \|$", text, re.M)


def test_html_report_is_self_contained_and_compares(
    two_sweeps: tuple[Path, Path], tmp_path: Path
) -> None:
    report = write_report(
        list(two_sweeps), tmp_path / "report.html", "html", labels=["single", "two-stage"]
    )
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    sources = re.findall(r"<img [^>]*src='([^']+)'", text)
    assert len(sources) == 6 + 6 + 6  # each recipe's plots, then the overlaid ones
    assert all(s.startswith("data:image/svg+xml;base64,") for s in sources)
    for title in ("Configuration", "Intelligence degradation", "Comparison"):
        assert f">{title}" in text
    assert "<td>single</td><td>two-stage</td><td>sample_story_en</td><td>t2t</td>" in text


def test_compare_two_runs_with_paired_statistics(tmp_path: Path) -> None:
    runs = {}
    for salt, samples in (("a", True), ("b", True), ("b-store", False)):
        out = tmp_path / salt
        evaluate(
            HashModel(salt=salt.split("-")[0]),
            tasks="sample_story_en",
            conditions="t2t",
            output_path=out,
            log_samples=samples,
            progress=False,
        )
        runs[salt] = out
    same = compare_runs([runs["a"], runs["a"]])["comparisons"][0]["tasks"]
    assert same["sample_story_en"]["t2t"]["diff"] == 0
    assert same["sample_story_en"]["t2t"]["mcnemar"]["p_value"] == 1.0
    report = compare_runs([runs["a"], runs["b"]], ["A", "B"])
    stats = report["comparisons"][0]["tasks"]["sample_story_en"]["t2t"]
    right_a = _story_outcomes(runs["a"] / "samples_sample_story_en_t2t.jsonl")
    right_b = _story_outcomes(runs["b"] / "samples_sample_story_en_t2t.jsonl")
    assert stats["n_items"] == len(right_a) == 170
    # A is the baseline, B the run: run minus baseline
    assert stats["acc_baseline"] == pytest.approx(sum(right_a.values()) / len(right_a))
    assert stats["mcnemar"]["baseline_only"] == sum(right_a[i] and not right_b[i] for i in right_a)
    assert stats["mcnemar"]["run_only"] == sum(right_b[i] and not right_a[i] for i in right_a)
    assert stats["ci_low"] <= stats["diff"] <= stats["ci_high"]
    from_store = compare_runs([runs["a"], runs["b-store"]])["comparisons"][0]["tasks"]
    assert from_store["sample_story_en"]["t2t"] == stats  # no samples: read scores.jsonl


def test_report_and_compare_commands(
    two_sweeps: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(
        cli_main,
        "EXTRA_COMMANDS",
        [
            ("s2sbench.cli.report_cmd", "add_report_parser"),
            ("s2sbench.cli.report_cmd", "add_compare_parser"),
        ],
    )
    a, b = (str(p) for p in two_sweeps)
    out = tmp_path / "cmp"
    assert cli_main.main(["compare", a, b, "--labels", "one,two", "--output-path", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "paired comparison" in printed and "one" in printed
    data = json.loads((out / "compare.json").read_text())
    assert [r["step"] for r in data["runs"]] == [300, 300]
    overlay = json.loads((out / "plots" / "acc_sample_cmmlu.json").read_text())
    assert {s["sweep"] for s in overlay["series"]} == {"one", "two"}
    assert cli_main.main(["report", a, "--format", "md", "--output", str(tmp_path / "r.md")]) == 0
    assert (tmp_path / "r.md").read_text().startswith("# s2sbench report")
    assert cli_main.main(["compare", a]) == 2  # one directory: a one-line error
    assert "at least two" in capsys.readouterr().err
