"""``compare`` reports each later run minus the baseline (the first directory), everywhere.

Two runs are built so the answer is known without running the statistics:
on the first 20 stories the baseline is right on 8 and the run on 14 (a
superset), so the run is 30 points better, 6 items flip towards the run and
none back, and the exact two-sided McNemar p is 2 * 0.5**6.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from s2sbench.cli import main as cli_main
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore
from s2sbench.evaluator import evaluate
from s2sbench.reports.compare import compare_runs
from s2sbench.reports.report import write_report

ITEMS = 20
BASELINE_RIGHT, RUN_RIGHT = 8, 14


class FirstKRight:
    """Right on the first ``k`` stories (item ids 0, 2, 4, ...), wrong on the rest."""

    name = "first-k"

    def __init__(self, k: int) -> None:
        self.k = k

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": self.name, "k": self.k}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return None if condition == Condition.T2T else "text only"

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, request in enumerate(requests):
            right = int(request.item_id) // 2 < self.k
            yield (
                index,
                [
                    ContinuationScore(-1.0 if (i == request.gold) == right else -3.0, 1)
                    for i in range(len(request.continuations))
                ],
            )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("direction")
    for name, k in (("base", BASELINE_RIGHT), ("better", RUN_RIGHT)):
        evaluate(
            FirstKRight(k),
            tasks="sample_story_en",
            conditions="t2t",
            limit=ITEMS,
            output_path=root / name,
            log_samples=True,
            progress=False,
        )
    return root / "base", root / "better"


def test_run_minus_baseline_with_named_keys(runs: tuple[Path, Path]) -> None:
    base, better = runs
    report = compare_runs([base, better], ["base", "better"])
    assert report["baseline"] == "base"
    assert "each run minus the baseline base" in report["direction"]
    (comp,) = report["comparisons"]
    assert (comp["baseline"], comp["run"], comp["direction"]) == (
        "base",
        "better",
        "run minus baseline",
    )
    stats = comp["tasks"]["sample_story_en"]["t2t"]
    assert stats["n_items"] == ITEMS
    assert stats["acc_baseline"] == pytest.approx(BASELINE_RIGHT / ITEMS)
    assert stats["acc_run"] == pytest.approx(RUN_RIGHT / ITEMS)
    assert stats["diff"] == pytest.approx((RUN_RIGHT - BASELINE_RIGHT) / ITEMS)  # +0.30
    assert 0 < stats["ci_low"] <= stats["diff"] <= stats["ci_high"]
    flips = RUN_RIGHT - BASELINE_RIGHT
    assert stats["mcnemar"]["run_only"] == flips and stats["mcnemar"]["baseline_only"] == 0
    assert stats["mcnemar"]["p_value"] == pytest.approx(2 * 0.5**flips)


def test_swapping_the_baseline_flips_the_sign(runs: tuple[Path, Path]) -> None:
    base, better = runs
    forward = compare_runs([base, better])["comparisons"][0]["tasks"]["sample_story_en"]["t2t"]
    back = compare_runs([better, base])["comparisons"][0]["tasks"]["sample_story_en"]["t2t"]
    assert back["diff"] == pytest.approx(-forward["diff"])
    assert back["mcnemar"]["baseline_only"] == forward["mcnemar"]["run_only"]


def test_terminal_json_and_help_agree(
    runs: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(
        cli_main, "EXTRA_COMMANDS", [("s2sbench.cli.report_cmd", "add_compare_parser")]
    )
    base, better = (str(p) for p in runs)
    out = tmp_path / "cmp"
    assert cli_main.main(["compare", base, better, "--output-path", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "each run minus the baseline base" in printed
    assert "run - baseline pts" in printed and "95% CI (run - baseline)" in printed
    data = json.loads((out / "compare.json").read_text())
    assert data["comparisons"][0]["tasks"]["sample_story_en"]["t2t"]["diff"] == pytest.approx(0.3)
    assert "+30.0" in printed and "-30.0" not in printed
    with pytest.raises(SystemExit):
        cli_main.main(["compare", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "The first DIR is the baseline" in help_text
    assert "each later run minus the baseline's" in help_text


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report_headers_name_the_direction(
    runs: tuple[Path, Path], tmp_path: Path, fmt: str
) -> None:
    text = write_report(
        list(runs), tmp_path / f"r.{fmt}", fmt, labels=["base", "better"]
    ).read_text(encoding="utf-8")
    assert "Comparison: each run minus the baseline base" in text
    assert "run - baseline pts" in text and "95% CI (run - baseline)" in text
    cells = r"\s*(?:</td><td>|\|)\s*"
    row = re.search(
        rf"base{cells}better{cells}sample_story_en{cells}t2t{cells}20{cells}"
        rf"([\d.]+){cells}([\d.]+){cells}([+-][\d.]+){cells}",
        text,
    )
    assert row is not None
    assert (row[1], row[2], row[3]) == ("40.0", "70.0", "+30.0")
    assert "minus the first" not in text and "A-B" not in text
