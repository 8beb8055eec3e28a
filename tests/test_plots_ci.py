"""Uncertainty in the figures: accuracy CI bands, the read-heard gap plot, paper-ready files.

The numbers are checked against what the run itself wrote (each checkpoint's
results.json and sample logs), recomputed here from the raw per-continuation
losses, never against numbers copied from an earlier run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from test_sweep import make_salt_run

from s2sbench.evaluator import evaluate
from s2sbench.reports.intervals import run_accuracy_cis
from s2sbench.reports.plots import plot_run_accuracy, plot_sweeps
from s2sbench.reports.run_records import load_run
from s2sbench.sweeps import load_sweep
from s2sbench.sweeps.run_sweep import sweep

TASKS = "sample_story_en,sample_cmmlu"


@pytest.fixture(scope="module")
def salt_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three checkpoints of a model that reads better than it hears, on all items."""
    root = tmp_path_factory.mktemp("ci")
    run = make_salt_run(root / "run", tag="c")
    sweep(
        str(run / "ckpt_*"),
        root / "sweep",
        model="test_sweep:FileSaltModel",
        tasks=TASKS,
        conditions="t2t,s2t",
        progress=False,
    )
    return root / "sweep"


@pytest.fixture(scope="module")
def sweep_plots(salt_sweep: Path) -> Path:
    """The sweep's figures, drawn once for the tests that only read them."""
    out = salt_sweep.parent / "plots"
    plot_sweeps({"s": load_sweep(salt_sweep)}, out)
    return out


def _sidecar(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def item_scores(samples: Path, kind: str) -> dict[str, float]:
    """Per item, from the raw losses: story 1/0 (right strictly lower); choice right pairs / 3."""
    by_item: dict[str, dict[bool, list[float]]] = {}
    for line in samples.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        by_item.setdefault(row["item_id"], {True: [], False: []})[row["is_right"]].append(
            row["loss"]
        )
    out = {}
    for item, losses in by_item.items():
        (right,) = losses[True]
        if kind == "story":
            out[item] = float(right < losses[False][0])
        else:
            out[item] = sum(right <= other for other in losses[False]) / len(losses[False])
    return out


def _checkpoints(root: Path) -> list[tuple[int, Path]]:
    index = json.loads((root / "sweep.json").read_text())
    return [(c["step"], root / c["name"]) for c in index["checkpoints"]]


@pytest.mark.parametrize(
    ("task", "kind"), [("sample_story_en", "story"), ("sample_cmmlu", "choice")]
)
def test_accuracy_bands_are_item_level_cis_around_each_point(
    salt_sweep: Path, sweep_plots: Path, task: str, kind: str
) -> None:
    acc = _sidecar(sweep_plots / f"acc_{task}.json")
    assert "bootstrap over items" in acc["ci"]
    assert {s["condition"] for s in acc["series"]} == {"t2t", "s2t"}
    for series in acc["series"]:
        assert len(series["ci_low"]) == len(series["ci_high"]) == len(series["x"]) == 3
        for (step, ckpt), x, y, low, high in zip(
            _checkpoints(salt_sweep), series["x"], series["y"], series["ci_low"], series["ci_high"]
        ):
            assert x == step
            scores = list(
                item_scores(ckpt / f"samples_{task}_{series['condition']}.jsonl", kind).values()
            )
            n = len(scores)
            mean = sum(scores) / n
            assert y == pytest.approx(100 * mean)  # the point is the mean item score
            assert low < y < high
            # a bootstrap CI of a mean is close to the normal one, mean +- 1.96 sd / sqrt(n)
            sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (n - 1))
            normal_width = 100 * 2 * 1.96 * sd / math.sqrt(n)
            assert high - low == pytest.approx(normal_width, rel=0.25)


def test_gap_plot_holds_each_checkpoints_degradation(salt_sweep: Path, sweep_plots: Path) -> None:
    names = sorted(f.name for f in sweep_plots.glob("*.png"))
    assert names == sorted(
        f"{fig}_{task}.png" for fig in ("acc", "loss", "gap") for task in TASKS.split(",")
    )
    gap = _sidecar(sweep_plots / "gap_sample_story_en.json")
    (series,) = gap["series"]
    assert series["pair"] == "t2t->s2t" and "n=170" in series["label"]
    assert "read - heard" in series["label"]
    for index, (step, ckpt) in enumerate(_checkpoints(salt_sweep)):
        deg = json.loads((ckpt / "results.json").read_text())["degradation"]["sample_story_en"]
        d = deg["t2t->s2t"]
        assert series["x"][index] == step
        assert series["y"][index] == pytest.approx(100 * d["gap"])
        assert series["ci_low"][index] == pytest.approx(100 * d["ci_low"])
        assert series["ci_high"][index] == pytest.approx(100 * d["ci_high"])
        read = item_scores(ckpt / "samples_sample_story_en_t2t.jsonl", "story")
        heard = item_scores(ckpt / "samples_sample_story_en_s2t.jsonl", "story")
        independent = sum(read[i] - heard[i] for i in read) / len(read)
        assert series["y"][index] == pytest.approx(100 * independent)
    assert "no gap (0)" in (sweep_plots / "gap_sample_story_en.svg").read_text(encoding="utf-8")


def test_figures_are_paper_ready(sweep_plots: Path) -> None:
    from PIL import Image

    pngs = sorted(sweep_plots.glob("*.png"))
    assert len(pngs) == 6
    for png in pngs:
        with Image.open(png) as image:
            assert image.info["dpi"] == pytest.approx((300, 300), abs=0.1)
            assert image.size[0] >= 1800 and image.size[1] >= 1000
        assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
        assert "</svg>" in png.with_suffix(".svg").read_text(encoding="utf-8")
    svg = (sweep_plots / "acc_sample_story_en.svg").read_text(encoding="utf-8")
    # matplotlib writes each text as a comment beside its glyph paths: the legend's entries
    assert "chance (50%)" in svg
    assert "95% CI (bootstrap over items)" in svg


def test_compare_overlay_keeps_identical_runs_apart(salt_sweep: Path, tmp_path: Path) -> None:
    same = load_sweep(salt_sweep)
    files = plot_sweeps({"first": same, "copy": same}, tmp_path)
    acc = _sidecar(next(f.json for f in files if f.json.name == "acc_sample_story_en.json"))
    by = {(s["sweep"], s["condition"]): s for s in acc["series"]}
    assert set(by) == {(r, c) for r in ("first", "copy") for c in ("t2t", "s2t")}
    for cond in ("t2t", "s2t"):
        a, b = by[("first", cond)], by[("copy", cond)]
        assert a["y"] == b["y"]  # identical numbers ...
        style_a, style_b = a["style"], b["style"]
        assert style_a["linestyle"] != style_b["linestyle"]  # ... drawn differently
        assert style_a["marker"] != style_b["marker"]
        assert style_a["hollow"] != style_b["hollow"]
        assert style_a["color"] == style_b["color"]  # colour is the condition's
        assert a["label"] == f"first {cond.upper()} (n=170)"
    assert by[("first", "t2t")]["style"]["color"] != by[("first", "s2t")]["style"]["color"]


def test_legend_shows_different_n(salt_sweep: Path, tmp_path: Path) -> None:
    run = make_salt_run(tmp_path / "run", tag="c")  # the same weights, scored on 10 items only
    sweep(
        str(run / "ckpt_*"),
        tmp_path / "small",
        model="test_sweep:FileSaltModel",
        tasks="sample_story_en",
        conditions="t2t",
        limit=10,
        progress=False,
    )
    files = plot_sweeps(
        {"full": load_sweep(salt_sweep), "small": load_sweep(tmp_path / "small")}, tmp_path / "p"
    )
    acc = _sidecar(next(f.json for f in files if f.json.name == "acc_sample_story_en.json"))
    labels = {s["label"] for s in acc["series"]}
    assert {"full T2T (n=170)", "full S2T (n=170)", "small T2T (n=10)"} == labels


def test_no_band_without_per_item_records(tmp_path: Path) -> None:
    from test_plots import write_fake_sweep

    files = plot_sweeps({"r": load_sweep(write_fake_sweep(tmp_path / "r", 0.0))}, tmp_path / "p")
    acc = _sidecar(next(f.json for f in files if f.json.name == "acc_story.json"))
    assert all("ci_low" not in s for s in acc["series"])  # no samples, no store: no guessed band


def test_single_run_bars_carry_their_ci(tmp_path: Path) -> None:
    from fake_models import HashModel

    evaluate(
        HashModel(salt="bars"),
        tasks=TASKS,
        conditions="t2t",
        output_path=tmp_path / "run",
        log_samples=True,
        progress=False,
    )
    run = load_run(tmp_path / "run")
    files = plot_run_accuracy(run.results, tmp_path / "p", cis=run_accuracy_cis(run))
    (series,) = _sidecar(files.json)["series"]
    for index, (task, kind) in enumerate(
        (("sample_story_en", "story"), ("sample_cmmlu", "choice"))
    ):
        scores = item_scores(tmp_path / "run" / f"samples_{task}_t2t.jsonl", kind)
        assert series["y"][index] == pytest.approx(100 * sum(scores.values()) / len(scores))
        assert series["ci_low"][index] < series["y"][index] < series["ci_high"][index]
