"""Plots over training steps: files exist, are real images, and hold exactly the swept numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s2sbench.core.strict_json import write_json
from s2sbench.reports.plots import plot_run_accuracy, plot_sweeps
from s2sbench.reports.results import RunResults
from s2sbench.sweeps import load_sweep

STEPS = (50, 150, 400, 1000)


def _metrics(acc: float, right: float, wrong: float) -> dict[str, Any]:
    return {"n": 10, "acc": acc, "mean_right_loss": right, "mean_wrong_loss": wrong}


def write_fake_sweep(root: Path, offset: float, done: int = len(STEPS)) -> Path:
    """A sweep directory as ``sweep`` leaves it, with known numbers (the last ones pending)."""
    entries = []
    for n, step in enumerate(STEPS):
        name = f"ckpt_{n}_{step}_r"
        status = "done" if n < done else "pending"
        entries.append({"name": name, "path": f"/run/{name}", "step": step, "status": status})
        if status == "done":
            acc = 0.5 + offset + 0.05 * n
            write_json(
                root / name / "results.json",
                {
                    "results": {
                        "story": {
                            "t2t": _metrics(acc, 3.0 - 0.2 * n, 3.5 - 0.1 * n),
                            "s2t": _metrics(acc - 0.1, 3.4 - 0.1 * n, 3.6 - 0.1 * n),
                        },
                        "choice": {"t2t": _metrics(acc + 0.02, 2.0, 2.5)},
                    },
                    "degradation": {},
                    "skipped": [],
                    "config": {},
                },
            )
    write_json(root / "sweep.json", {"format": 1, "request": {}, "checkpoints": entries})
    return root


def _sidecar(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _check_images(png: Path, svg: Path) -> None:
    from matplotlib.image import imread

    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = imread(png).shape
    assert width > 300 and height > 200
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "</svg>" in text


def test_one_sweep_gives_accuracy_and_loss_per_task(tmp_path: Path) -> None:
    sweep = load_sweep(write_fake_sweep(tmp_path / "recipe_a", 0.0, done=3))
    files = plot_sweeps({"recipe_a": sweep}, tmp_path / "plots")
    assert sorted(f.png.name for f in files) == [
        "acc_choice.png",
        "acc_story.png",
        "loss_choice.png",
        "loss_story.png",
    ]
    for f in files:
        _check_images(f.png, f.svg)
    acc = _sidecar(tmp_path / "plots" / "acc_story.json")
    assert [s["condition"] for s in acc["series"]] == ["t2t", "s2t"]  # same axes: gap visible
    assert [s["label"] for s in acc["series"]] == ["T2T (n=10)", "S2T (n=10)"]
    for series in acc["series"]:
        assert series["x"] == [50.0, 150.0, 400.0]  # the pending checkpoint is not plotted
    assert acc["series"][0]["y"] == pytest.approx([50.0, 55.0, 60.0])
    assert acc["series"][1]["y"] == pytest.approx([40.0, 45.0, 50.0])
    loss = _sidecar(tmp_path / "plots" / "loss_story.json")
    assert [(s["condition"], s["metric"]) for s in loss["series"]] == [
        ("t2t", "mean_right_loss"),
        ("t2t", "mean_wrong_loss"),
        ("s2t", "mean_right_loss"),
        ("s2t", "mean_wrong_loss"),
    ]
    assert loss["series"][0]["y"] == pytest.approx([3.0, 2.8, 2.6])
    assert len(_sidecar(tmp_path / "plots" / "acc_choice.json")["series"]) == 1


def test_several_sweeps_are_overlaid_and_labelled(tmp_path: Path) -> None:
    sweeps = {
        "single-stage": load_sweep(write_fake_sweep(tmp_path / "a", 0.0)),
        "two-stage": load_sweep(write_fake_sweep(tmp_path / "b", 0.1)),
    }
    files = plot_sweeps(sweeps, tmp_path / "plots")
    acc = _sidecar(next(f.json for f in files if f.json.name == "acc_story.json"))
    assert [s["label"] for s in acc["series"]] == [
        "single-stage T2T (n=10)",
        "single-stage S2T (n=10)",
        "two-stage T2T (n=10)",
        "two-stage S2T (n=10)",
    ]
    assert all(len(s["x"]) == len(STEPS) for s in acc["series"])
    gap = [b - a for a, b in zip(acc["series"][0]["y"], acc["series"][2]["y"])]
    assert gap == pytest.approx([10.0] * len(STEPS))
    loss = _sidecar(next(f.json for f in files if f.json.name == "loss_story.json"))
    assert len(loss["series"]) == 8
    assert "two-stage" in (tmp_path / "plots" / "acc_story.svg").read_text(encoding="utf-8")


def test_a_single_run_gets_a_bar_chart(tmp_path: Path) -> None:
    results = {
        "results": {
            "story": {"t2t": _metrics(0.7, 1, 2), "s2t": _metrics(0.6, 1, 2)},
            "choice": {"t2t": _metrics(0.55, 1, 2)},
        }
    }
    files = plot_run_accuracy(RunResults.from_json(results), tmp_path)
    _check_images(files.png, files.svg)
    series = {s["condition"]: s["y"] for s in _sidecar(files.json)["series"]}
    assert series == {"t2t": pytest.approx([70.0, 55.0]), "s2t": pytest.approx([60.0])}


def test_audio_llm_sweep_plots_read_and_heard_on_one_axis(tmp_path: Path) -> None:
    """Two tiny Qwen2-Audio checkpoints through ``hf-audio``: both conditions, real scores."""
    pytest.importorskip("transformers")  # the hf extra
    from tiny_audio_models import make_qwen2_audio

    from s2sbench.sweeps import parse_summary
    from s2sbench.sweeps.run_sweep import sweep

    for n, step in enumerate((10, 20), start=1):
        make_qwen2_audio(tmp_path / "run" / f"ckpt_{n}_{step}_q", seed=step)
    outcome = sweep(
        str(tmp_path / "run" / "ckpt_*"),
        tmp_path / "out",
        model="hf-audio",
        model_args="dtype=float32",
        tasks="sample_story_en",
        conditions="t2t,s2t",
        limit=3,
        progress=False,
    )
    files = plot_sweeps({"qwen": outcome.sweep}, tmp_path / "plots")
    summary = parse_summary((tmp_path / "out" / "summary.txt").read_text())
    loss = _sidecar(next(f.json for f in files if f.json.name == "loss_sample_story_en.json"))
    for series in loss["series"]:
        rows = summary[("sample_story_en", series["condition"])]
        column = 2 if series["metric"] == "mean_right_loss" else 3
        assert series["x"] == [10.0, 20.0]
        assert series["y"] == pytest.approx([r[column] for r in rows], abs=5e-5)
    assert {s["condition"] for s in loss["series"]} == {"t2t", "s2t"}
