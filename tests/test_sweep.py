"""Checkpoint sweeps: discovery, step parsing, summary lines, and kill-and-resume on real models.

The training run is several tiny GPT-2 checkpoints whose weights differ
(different seeds), saved as ``ckpt_<n>_<step>_x`` and scored through the
real ``hf`` adapter. The sweep runs in a subprocess that is killed once the
first checkpoint is finished and the second is half-way; the rerun must not
recompute the finished checkpoint (its files byte-identical) and must end
with the same results as an uninterrupted sweep.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from s2sbench.cli import main as cli_main
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ConfigError, StoreError
from s2sbench.core.scoring import ContinuationScore
from s2sbench.models.registry import RUNTIME_KEYS, get_model
from s2sbench.reports.sweep_series import Point, summary_line
from s2sbench.sweeps import find_checkpoints, parse_step, parse_summary
from s2sbench.sweeps.lock import sweep_lock
from s2sbench.sweeps.run_sweep import MARKER_NAME, sweep

TESTS_DIR = Path(__file__).resolve().parent
STEPS = (100, 200, 300)
TASKS = "sample_story_en,sample_cmmlu"
LIMIT = 8  # items per task: 16 T2T contexts per checkpoint
SLOWED_ARGS = "inner=hf,dtype=float32"


class Slowed:
    """Plugin: another adapter, with a pause per request so a test can kill it mid-checkpoint.

    Its fingerprint is the inner adapter's, so its scores are exactly the
    inner model's scores, shared with an unslowed run.
    """

    def __init__(self, **kwargs: Any):  # only **kwargs: the inner adapter checks the keys
        runtime = {k: kwargs.pop(k) for k in list(kwargs) if k in RUNTIME_KEYS}
        self.inner = get_model(kwargs.pop("inner", "hf"), kwargs, **runtime)
        self.name = self.inner.name
        # from the environment, so slowed and unslowed runs make the same sweep request
        self.delay = float(os.environ.get("S2SBENCH_TEST_DELAY", "0"))

    def fingerprint(self) -> dict[str, Any]:
        return self.inner.fingerprint()

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return self.inner.unsupported_reason(condition, lang)

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, scores in self.inner.score(requests):
            time.sleep(self.delay)
            yield index, scores


class FileSaltModel:
    """Plugin for fast tests: a "checkpoint" is a folder with ``weights.txt``; T2T and S2T."""

    name = "file-salt"
    live: weakref.WeakSet[FileSaltModel] = weakref.WeakSet()
    alive_at_load: list[int] = []

    def __init__(self, pretrained: str, **_: Any):
        self.salt = (Path(pretrained) / "weights.txt").read_text(encoding="utf-8")
        FileSaltModel.alive_at_load.append(len(FileSaltModel.live))
        FileSaltModel.live.add(self)

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": self.name, "salt": self.salt}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return None if condition in (Condition.T2T, Condition.S2T) else "text continuations only"

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, request in enumerate(requests):
            heard = request.context_text is None
            context = Path(str(request.context_audio)).name if heard else request.text_context
            out = []
            for cont in request.continuations:
                digest = hashlib.sha256(f"{self.salt}|{context}|{cont}".encode()).digest()
                # reading helps: the right continuation is favoured under T2T only
                bonus = 0.8 if not heard and cont == request.continuations[request.gold] else 0
                extra = {"transcript": f"heard {context}"} if heard else {}
                out.append(ContinuationScore(-(2 + digest[0] / 50 - bonus) * 4, 4, extra))
            yield index, out


def make_salt_run(root: Path, steps: Sequence[int] = STEPS, tag: str = "x") -> Path:
    for n, step in enumerate(steps, start=1):
        ckpt = root / f"ckpt_{n}_{step}_{tag}"
        ckpt.mkdir(parents=True)
        (ckpt / "weights.txt").write_text(f"{tag}{step}", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def gpt2_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three tiny GPT-2 checkpoints with different weights, named like the reference run."""
    pytest.importorskip("transformers")  # the hf extra
    import shutil

    import torch
    from safetensors.torch import load_file, save_file
    from tiny_models import make_gpt2

    root = tmp_path_factory.mktemp("train_run")
    first = make_gpt2(root / f"ckpt_1_{STEPS[0]}_x", seed=0)
    generator = torch.Generator().manual_seed(0)
    for n, step in enumerate(STEPS[1:], start=2):  # "training": perturb the previous weights
        ckpt = root / f"ckpt_{n}_{step}_x"
        shutil.copytree(first, ckpt)
        weights = load_file(ckpt / "model.safetensors")
        for name, tensor in weights.items():
            if tensor.is_floating_point():
                noise = torch.randn(tensor.shape, generator=generator) * 0.05 * (n - 1)
                weights[name] = tensor + noise
        save_file(weights, ckpt / "model.safetensors", metadata={"format": "pt"})
    return root


def test_checkpoints_are_sorted_by_step_not_by_name(tmp_path: Path) -> None:
    for name in ("ckpt_10_1000_a", "ckpt_2_200_a", "ckpt_3_300_b", ".hidden_ckpt"):
        (tmp_path / name).mkdir()
    found = find_checkpoints(str(tmp_path / "ckpt_*"))
    assert [(c.name, c.step) for c in found] == [
        ("ckpt_2_200_a", 200),
        ("ckpt_3_300_b", 300),
        ("ckpt_10_1000_a", 1000),
    ]


def test_step_regex_and_clear_errors(tmp_path: Path) -> None:
    assert parse_step("ckpt_4_1500") == 1500
    assert parse_step("run-step-40", r"step-(?P<step>\d+)") == 40
    assert parse_step("epoch3_it77", r"it(\d+)") == 77
    with pytest.raises(ConfigError, match="checkpoint-final"):
        parse_step("checkpoint-final")
    with pytest.raises(ConfigError, match="group"):
        parse_step("a1b2", r"a(\d)b(\d)")
    for name in ("ckpt_1_100_a", "ckpt_2_100_b"):
        (tmp_path / name).mkdir()
    with pytest.raises(ConfigError, match="both have step 100"):
        find_checkpoints(str(tmp_path / "ckpt_*"))
    with pytest.raises(ConfigError, match="no checkpoints match"):
        find_checkpoints(str(tmp_path / "nothing_*"))


def test_summary_line_is_the_reference_format() -> None:
    line = summary_line(Point(1500, 0.61234, 2.345678, 2.9, 46))
    assert line == "1500,61.23%,2.3457,2.9000"  # the reference's f"{acc:.2%}"
    parsed = parse_summary(f"# task=t condition=s2t\n# step,acc%\n{line}\n")
    assert parsed == {("t", "s2t"): [(1500, 61.23, 2.3457, 2.9)]}


def test_sweep_refuses_pretrained_in_model_args(tmp_path: Path) -> None:
    run = make_salt_run(tmp_path / "run")
    with pytest.raises(ConfigError, match="pretrained"):
        sweep(
            str(run / "ckpt_*"),
            tmp_path / "out",
            model="test_sweep:FileSaltModel",
            model_args="pretrained=/elsewhere",
            tasks="sample_story_en",
            conditions="t2t",
        )


def _sweep_code(run: Path, out: Path) -> str:
    return (
        f"import sys; sys.path.insert(0, {str(TESTS_DIR)!r})\n"
        "from s2sbench.sweeps.run_sweep import sweep\n"
        f"sweep({str(run / 'ckpt_*')!r}, {str(out)!r}, model='test_sweep:Slowed', "
        f"model_args={SLOWED_ARGS!r}, tasks={TASKS!r}, "
        f"conditions='t2t,s2t', limit={LIMIT}, progress=False)\n"
    )


def _wait_for(predicate: Any, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"sweep exited early: {proc.stderr.read().decode()[-2000:]}")
        assert time.monotonic() < deadline, "sweep made no progress"
        time.sleep(0.02)


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Nested metrics as one flat dict, so float noise from batch composition can be tolerated."""
    out: dict[str, float] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _lines(path: Path) -> int:
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def test_killed_sweep_resumes_without_recomputing(gpt2_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    first, second, third = (out / f"ckpt_{n}_{s}_x" for n, s in enumerate(STEPS, start=1))
    proc = subprocess.Popen(
        [sys.executable, "-c", _sweep_code(gpt2_run, out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(TESTS_DIR), "S2SBENCH_TEST_DELAY": "0.05"},
    )
    try:
        _wait_for(lambda: (first / MARKER_NAME).exists(), proc)
        _wait_for(lambda: _lines(second / "scores.jsonl") >= 2, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (first / "results.json").exists() and not (second / "results.json").exists()
    assert not third.exists() or not (third / "results.json").exists()
    done_before = _lines(second / "scores.jsonl")
    assert 0 < done_before < 2 * LIMIT
    store_bytes = (first / "scores.jsonl").read_bytes()
    results_mtime = (first / "results.json").stat().st_mtime_ns

    outcome = sweep(
        str(gpt2_run / "ckpt_*"),
        out,
        model="test_sweep:Slowed",
        model_args=SLOWED_ARGS,
        tasks=TASKS,
        conditions="t2t,s2t",
        limit=LIMIT,
        progress=False,
    )
    assert outcome.skipped == [first.name]
    assert outcome.evaluated == [second.name, third.name]
    assert (first / "scores.jsonl").read_bytes() == store_bytes
    assert (first / "results.json").stat().st_mtime_ns == results_mtime
    resumed = json.loads((second / "results.json").read_text())["config"]
    assert resumed["reused_from_store"] >= done_before - 1  # a torn last line may be dropped
    assert resumed["scored_now"] + resumed["reused_from_store"] == 2 * LIMIT

    clean = tmp_path / "clean"
    sweep(
        str(gpt2_run / "ckpt_*"),
        clean,
        model="test_sweep:Slowed",
        model_args=SLOWED_ARGS,
        tasks=TASKS,
        conditions="t2t,s2t",
        limit=LIMIT,
        progress=False,
    )
    for ckpt in (first, second, third):
        got = json.loads((ckpt / "results.json").read_text())
        want = json.loads((clean / ckpt.name / "results.json").read_text())
        assert _flat(got["results"]) == pytest.approx(_flat(want["results"]), rel=1e-6)
        assert got["skipped"] == want["skipped"]  # S2T: text-only model, reported as skipped
    summary = (out / "summary.txt").read_text()
    assert summary == (clean / "summary.txt").read_text()

    parsed = parse_summary(summary)
    assert set(parsed) == {("sample_story_en", "t2t"), ("sample_cmmlu", "t2t")}
    for (task, cond), rows in parsed.items():
        assert [r[0] for r in rows] == list(STEPS)
        for row, ckpt in zip(rows, (first, second, third)):
            metrics = json.loads((ckpt / "results.json").read_text())["results"][task][cond]
            assert row[1] == pytest.approx(100 * metrics["acc"], abs=0.005)
            assert row[2] == pytest.approx(metrics["mean_right_loss"], abs=5e-5)
            assert row[3] == pytest.approx(metrics["mean_wrong_loss"], abs=5e-5)
        assert len({r[2] for r in rows}) == len(STEPS)  # the weights differ, so do the losses
    index = json.loads((out / "sweep.json").read_text())
    assert [(c["step"], c["status"]) for c in index["checkpoints"]] == [(s, "done") for s in STEPS]


def test_sweep_command_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        cli_main, "EXTRA_COMMANDS", [("s2sbench.cli.sweep_cmd", "add_sweep_parser")]
    )
    run = make_salt_run(tmp_path / "run")
    argv = [
        "sweep",
        "--checkpoints",
        str(run / "ckpt_*"),
        "--model",
        "test_sweep:FileSaltModel",
        "--tasks",
        "sample_story_en",
        "--conditions",
        "t2t",
        "--limit",
        "6",
        "--output-path",
        str(tmp_path / "out"),
        "--no-progress",
    ]
    assert cli_main.main(argv) == 0
    assert "3 checkpoints evaluated, 0 already finished" in capsys.readouterr().out
    assert (tmp_path / "out" / "plots" / "acc_sample_story_en.png").stat().st_size > 1000
    per_ckpt = (tmp_path / "out" / "ckpt_2_200_x" / "summary.txt").read_text()
    assert parse_summary(per_ckpt)[("sample_story_en", "t2t")][0][0] == 200
    assert cli_main.main([*argv, "--no-plots"]) == 0
    assert "0 checkpoints evaluated, 3 already finished" in capsys.readouterr().out
    (run / "ckpt_2_200_x" / "weights.txt").write_text("retrained", encoding="utf-8")
    assert cli_main.main([*argv, "--no-plots"]) == 0  # an overwritten checkpoint is redone
    assert "1 checkpoints evaluated, 2 already finished" in capsys.readouterr().out


def test_previous_checkpoint_is_released_before_the_next_loads(tmp_path: Path) -> None:
    run = make_salt_run(tmp_path / "run")
    FileSaltModel.alive_at_load.clear()
    outcome = sweep(
        str(run / "ckpt_*"),
        tmp_path / "out",
        model="test_sweep:FileSaltModel",
        tasks="sample_story_en",
        conditions="t2t",
        limit=3,
        progress=False,
    )
    assert len(outcome.evaluated) == 3
    assert FileSaltModel.alive_at_load == [0, 0, 0]


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_one_sweep_per_output_directory(tmp_path: Path) -> None:
    run = make_salt_run(tmp_path / "run")
    out = tmp_path / "out"
    out.mkdir()
    gone = _dead_pid()
    (out / f".sweep.json.s2sbench-{gone}-x1y2abcd.tmp").write_text("{half")  # a killed write
    (out / ".notes.tmp").write_text("the user's own")  # not ours: must survive
    with sweep_lock(out), pytest.raises(StoreError, match="another s2sbench sweep"):
        sweep(
            str(run / "ckpt_*"),
            out,
            model="test_sweep:FileSaltModel",
            tasks="sample_story_en",
            conditions="t2t",
            limit=2,
            progress=False,
        )
    sweep(
        str(run / "ckpt_*"),
        out,
        model="test_sweep:FileSaltModel",
        tasks="sample_story_en",
        conditions="t2t",
        limit=2,
        progress=False,
    )
    assert [p.name for p in out.glob(".*.tmp")] == [".notes.tmp"]
    assert not (out / ".s2sbench-sweep.lock").exists()  # removed when the sweep ended
