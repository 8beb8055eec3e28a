"""Every reader of results.json goes through one checked loader, which knows the format version.

A results.json written by a newer s2sbench (a higher ``format_version``) is
refused with one line that says to upgrade, instead of being misread; the
checkpoints of a sweep are read through the same loader, so a damaged one is
one clear error naming it rather than a traceback from ``json.loads``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_models import HashModel

from s2sbench import evaluate
from s2sbench.cli.main import main
from s2sbench.core.errors import ConfigError, DataError
from s2sbench.reports.results import RESULTS_FORMAT_VERSION
from s2sbench.reports.run_records import load_run
from s2sbench.reports.sweep_series import load_sweep


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    evaluate(
        HashModel(salt="v"),
        tasks="sample_story_en",
        conditions="t2t",
        output_path=out,
        limit=4,
        log_samples=True,
        progress=False,
    )
    return out


def _set_version(run: Path, version: object) -> None:
    path = run / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["format_version"] = version
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_current_version_reads(run_dir: Path) -> None:
    assert load_run(run_dir).results.format_version == RESULTS_FORMAT_VERSION


def test_a_newer_format_is_refused_with_one_line(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_version(run_dir, RESULTS_FORMAT_VERSION + 1)
    with pytest.raises(ConfigError, match="upgrade s2sbench"):
        load_run(run_dir)
    assert main(["report", str(run_dir), "--output", str(run_dir / "r.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "results.json" in err and "reads formats up to" in err


@pytest.mark.parametrize("version", ["1", 0, True, None])
def test_a_version_that_is_no_version_is_refused(run_dir: Path, version: object) -> None:
    _set_version(run_dir, version)
    with pytest.raises(DataError, match="not a version number"):
        load_run(run_dir)


def test_a_sweep_reads_its_checkpoints_through_the_checked_loader(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    (root / "ckpt_1_100").mkdir(parents=True)
    index = {"checkpoints": [{"name": "ckpt_1_100", "step": 100, "status": "done"}]}
    (root / "sweep.json").write_text(json.dumps(index), encoding="utf-8")
    (root / "ckpt_1_100" / "results.json").write_text("{", encoding="utf-8")  # a torn write
    with pytest.raises(DataError, match=r"ckpt_1_100/results.json"):
        load_sweep(root)
