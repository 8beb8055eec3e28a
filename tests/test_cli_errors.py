"""Command-line mistakes and signals: one line naming the argument or file, exit 2 (or 130/143).

Every case runs the real CLI into an output directory that holds an earlier
run and checks: the exit code, exactly one stderr line that starts with
``s2sbench``, names the argument or file and says what to do, no traceback,
and the earlier run's files byte-identical. The API refuses the same values
with the same ConfigError. SIGTERM and SIGINT stop a run with one line saying
what was kept and how to resume; the resume then matches an uninterrupted run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s2sbench import evaluate
from s2sbench.cli.main import main
from s2sbench.core.errors import ConfigError
from s2sbench.scores.store import LOCK_NAME, STORE_NAME

TESTS = Path(__file__).resolve().parent
HASH = ["--model", "fake_models:HashModel", "--tasks", "sample_story_en", "--conditions", "t2t"]

SHAPES = {
    "not_an_object": "[1, 2]",
    "results_a_number": '{"results": 3}',
    "cell_without_counts": '{"results": {"t": {"t2t": {}}}}',
    "metric_not_a_number": '{"results": {"t": {"t2t": {"acc": 0.5, "n": 3, "ties": "x"}}}}',
    "tasks_not_objects": '{"results": {"t": {"t2t": {"acc": 0.5, "n": 2}}}, '
    '"config": {"tasks": {"t": 5}}}',
    "degradation_flat": '{"results": {}, "degradation": {"t": 1}}',
    "skipped_not_a_list": '{"results": {}, "skipped": "none"}',
    "not_json": "{oops",
}


def other_shape(text: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        (tmp / "other").mkdir()
        (tmp / "other" / "results.json").write_text(text)
        return ["report", str(tmp / "other")]

    return make


CASES: dict[str, tuple[Callable[[Path], list[str]], tuple[str, ...]]] = {
    "model_relative_path": (lambda t: ["run", "--model", "../../x:y"], ("'../../x:y'",)),
    "model_colon_only": (lambda t: ["run", "--model", ":"], ("--model ':'",)),
    "model_no_object": (lambda t: ["run", "--model", "os.path:"], ("'os.path:'",)),
    "model_object_path": (lambda t: ["run", "--model", "os:path.join"], ("'os:path.join'",)),
    "seed_negative": (lambda t: ["run", *HASH, "--seed", "-1"], ("--seed", "'-1'")),
    "seed_not_integer": (lambda t: ["run", *HASH, "--seed", "1.5"], ("--seed", "'1.5'")),
    "limit_inf": (lambda t: ["run", *HASH, "--limit", "inf"], ("--limit", "'inf'")),
    "limit_nan": (lambda t: ["run", *HASH, "--limit", "nan"], ("--limit", "'nan'")),
    "limit_overflow": (lambda t: ["run", *HASH, "--limit", "1e400"], ("--limit", "'1e400'")),
    "limit_negative": (lambda t: ["run", *HASH, "--limit", "-2"], ("--limit", "'-2'")),
    "limit_keeps_nothing": (
        lambda t: ["run", *HASH, "--limit", "0.005"],
        ("sample_story_en", "--limit 0.005", "170"),
    ),
    "tasks_only_commas": (lambda t: ["run", *HASH, "--tasks", ","], ("--tasks", "no task")),
    "tasks_blank": (lambda t: ["run", *HASH, "--tasks", " "], ("--tasks", "no task")),
    "batch_size_zero": (lambda t: ["run", *HASH, "--batch-size", "0"], ("--batch-size",)),
    "batch_size_auto_max": (lambda t: ["run", *HASH, "--batch-size", "auto:0"], ("auto:0",)),
    "model_args_empty_key": (
        lambda t: ["run", *HASH, "--model-args", "=3"],
        ("--model-args", "'=3'", "no key"),
    ),
    "model_args_key_twice": (
        lambda t: ["run", *HASH, "--model-args", "salt=a,salt=b"],
        ("--model-args", "'salt' twice"),
    ),
    "nothing_to_evaluate": (
        lambda t: ["run", *HASH[:4], "--conditions", "s2t"],
        ("nothing to evaluate", "sample_story_en/s2t"),
    ),
    "ray_gpus_nan": (
        lambda t: ["run", *HASH, "--executor", "ray", "--gpus-per-replica", "nan"],
        ("--gpus-per-replica",),
    ),
    "output_under_a_file": (
        lambda t: ["run", *HASH, "--output-path", str(t / "out" / "scores.jsonl" / "sub")],
        ("scores.jsonl/sub", "Not a directory", "--output-path"),
    ),
    "unknown_command": (lambda t: ["frob"], ("'frob'",)),
    "unknown_data_command": (lambda t: ["data", "frob"], ("'frob'",)),
    "report_seed_negative": (lambda t: ["report", str(t), "--seed", "-3"], ("--seed", "'-3'")),
    "compare_seed_negative": (
        lambda t: ["compare", str(t), str(t), "--seed", "-3"],
        ("--seed", "'-3'"),
    ),
    "sweep_seed_negative": (
        lambda t: ["sweep", "x_*", "--output-path", str(t / "s"), "--seed", "-3"],
        ("--seed", "'-3'"),
    ),
    **{
        f"report_{name}": (other_shape(text), ("other/results.json",))
        for name, text in SHAPES.items()
    },
}


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("earlier") / "out"
    assert main(["run", *HASH, "--limit", "3", "--output-path", str(out), "--no-progress"]) == 0
    return out


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("name", list(CASES))
def test_a_command_line_mistake_is_one_line(
    name: str, tmp_path: Path, earlier: Path, capsys: pytest.CaptureFixture
) -> None:
    make, expect = CASES[name]
    out = shutil.copytree(earlier, tmp_path / "out")
    argv = make(tmp_path)
    if argv[0] == "run" and "--output-path" not in argv:
        argv += ["--output-path", str(out), "--no-progress"]
    before = snapshot(tmp_path)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse leaves through parser.exit
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("s2sbench") and "internal error" not in err, err
    assert " -- " in err or "--help" in err, f"no advice in {err!r}"
    for text in expect:
        assert text in err, f"{text!r} not in {err!r}"
    assert snapshot(tmp_path) == before


def test_report_names_a_results_file_that_is_not_ours_in_every_shape() -> None:
    assert len([n for n in CASES if n.startswith("report_") and "seed" not in n]) == len(SHAPES)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("limit", math.inf),
        ("limit", math.nan),
        ("limit", -1),
        ("limit", 0),
        ("limit", True),
        ("limit", "5"),
        ("seed", -1),
        ("seed", 1.5),
        ("seed", True),
        ("tasks", []),
        ("tasks", ","),
    ],
)
def test_the_api_refuses_the_same_values(option: str, value: Any, tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"tasks": ["sample_story_en"], "limit": 3, option: value}
    with pytest.raises(ConfigError, match=f"--{option}"):
        evaluate(
            model="fake_models:HashModel",
            conditions=["t2t"],
            output_path=tmp_path,
            progress=False,
            **kwargs,
        )
    assert list(tmp_path.iterdir()) == []


# -- signals --------------------------------------------------------------------------------------
def command(out: Path, delay_ms: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "s2sbench",
        "run",
        "--model",
        "test_kill_resume:SlowHashModel",
        "--model-args",
        f"delay_ms={delay_ms}",
        "--tasks",
        "sample_story_en",
        "--conditions",
        "t2t",
        "--output-path",
        str(out),
        "--log-samples",
        "--no-progress",
    ]


def launch(out: Path, delay_ms: float) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{TESTS}:{TESTS.parent}"}
    return subprocess.Popen(
        command(out, delay_ms), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def records(out: Path) -> int:
    try:
        return (out / STORE_NAME).read_bytes().count(b"\n") - 1
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize(
    ("sig", "code", "how"),
    [(signal.SIGTERM, 143, "terminated (SIGTERM)"), (signal.SIGINT, 130, "interrupted (SIGINT)")],
)
def test_a_signal_stops_the_run_with_one_line_and_the_resume_completes(
    sig: int, code: int, how: str, tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    done = launch(reference, 0)
    assert done.wait(timeout=120) == 0
    out = tmp_path / "stopped"
    proc = launch(out, 40)
    deadline = time.monotonic() + 60
    while records(out) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.splitlines() == [
        f"s2sbench: {how}; finished scores are kept in {out} -- rerun the same command to resume"
    ]
    kept = (out / STORE_NAME).read_bytes()
    assert kept.endswith(b"\n") and records(out) >= 3  # whole lines, flushed
    assert not (out / LOCK_NAME).exists() and not (out / "results.json").exists()
    assert launch(out, 0).wait(timeout=120) == 0
    assert (out / STORE_NAME).read_bytes() == (reference / STORE_NAME).read_bytes()
    want = json.loads((reference / "results.json").read_text())["results"]
    assert json.loads((out / "results.json").read_text())["results"] == want
