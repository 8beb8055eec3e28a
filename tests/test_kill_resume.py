"""Crash safety and concurrency, with real processes: SIGKILL anywhere, resume, same bytes.

A run of a plugin model slow enough to be caught mid-way (a few ms per
request) is killed with SIGKILL at 10 seeded random points -- after a random
number of stored scores (twice also tearing the last line, as a power cut
would), while metrics are computed, or while ``results.json`` is being
written -- then resumed by running the same command again. The resumed output
directory must match an uninterrupted run byte for byte (``scores.jsonl``, the
samples files, and no temp file left over) and in every result
(``results.json`` less its timings and git hash).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fake_models import HashModel

from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore
from s2sbench.scores.store import LOCK_NAME, STORE_NAME

TESTS = Path(__file__).resolve().parent
KILL_POINTS = 10
SEED = 20261125


class SlowHashModel(HashModel):
    """``HashModel`` that sleeps ``delay_ms`` per request; the delay is not in the fingerprint."""

    def __init__(self, delay_ms: float = 4.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.delay = float(delay_ms) / 1000

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for result in super().score(requests):
            time.sleep(self.delay)
            yield result


def command(out: Path, delay_ms: float = 4.0) -> list[str]:
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
        "sample_story_en,sample_cmmlu",
        "--conditions",
        "t2t",
        "--output-path",
        str(out),
        "--log-samples",
        "--no-progress",
    ]


def start(out: Path, delay_ms: float = 4.0) -> subprocess.Popen[str]:
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen(
        command(out, delay_ms),
        env={**os.environ, "PYTHONPATH": path},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(out: Path) -> None:
    proc = start(out)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


def stored_lines(out: Path) -> int:
    """Score lines in the store, less its header line (written atomically when it is made)."""
    try:
        return max((out / STORE_NAME).read_bytes().count(b"\n") - 1, 0)
    except FileNotFoundError:
        return 0


def kill_when(out: Path, ready: Callable[[], bool], extra_ms: float) -> tuple[int, str]:
    """Start a run, SIGKILL it ``extra_ms`` after ``ready()`` holds; its exit code and stderr."""
    proc = start(out)
    deadline = time.monotonic() + 60
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0002)
    time.sleep(extra_ms / 1000)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def tear_last_line(out: Path, rng: random.Random) -> None:
    """What a power cut can add to a kill: the tail of the last line never reached the disk."""
    store = out / STORE_NAME
    raw = store.read_bytes()
    last = raw.rstrip(b"\n").rfind(b"\n") + 1
    store.write_bytes(raw[: rng.randrange(last + 1, len(raw) - 1)])


def outcome(out: Path) -> dict[str, Any]:
    """Everything a run leaves, less the timings and counters of ``results.json``'s config."""
    results = json.loads((out / "results.json").read_text())
    config = {k: v for k, v in results.pop("config").items() if k not in VOLATILE}
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}
    assert LOCK_NAME not in files  # a clean exit leaves no lock file behind
    files.pop("results.json")  # compared above, less its timings
    return {"results": results, "config": config, "files": files}


# Timings and counters differ by design; git_hash too when a commit lands between two runs.
VOLATILE = (
    "seconds",
    "started_at",
    "total_seconds",
    "scored_now",
    "reused_from_store",
    "git_hash",
)


def test_sigkill_at_random_points_then_resume_matches_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    reference = tmp_path / "reference"
    finish(reference)
    expected = outcome(reference)
    total = stored_lines(reference)
    assert set(expected["files"]) == {
        STORE_NAME,
        "samples_sample_story_en_t2t.jsonl",
        "samples_sample_cmmlu_t2t.jsonl",
    }

    rng = random.Random(SEED)
    phases = ["scoring"] * 5 + ["scoring+torn"] * 2 + ["metrics"] * 2 + ["writing"]
    survived = 0
    for number, phase in enumerate(phases):
        for attempt in range(8):  # a run the busy machine let finish first is no kill point
            out = tmp_path / f"killed_{number}_{attempt}"
            lines = rng.randrange(1, total)
            ready: Callable[[], bool] = lambda: stored_lines(out) >= lines  # noqa: B023, E731
            extra_ms = rng.uniform(0, 3)
            if phase == "metrics":  # every score stored, results not yet written
                ready = lambda: stored_lines(out) >= total  # noqa: B023, E731
                extra_ms = rng.uniform(0, 15)
            elif phase == "writing":  # results.json's temp file is being written
                ready = lambda: any(out.glob(".results.json.*"))  # noqa: B023, E731
                extra_ms = 0.0
            code, err = kill_when(out, ready, extra_ms)
            if code != 0:
                break
        assert code != 0, f"point {number} ({phase}): every run finished before the kill point"
        assert code == -signal.SIGKILL, f"point {number} ({phase}) failed by itself: {err}"
        assert not (out / "samples_sample_cmmlu_t2t.jsonl").exists()
        if phase == "scoring+torn":
            tear_last_line(out, rng)
        finish(out)
        assert outcome(out) == expected, f"kill point {number} ({phase}, {lines} lines)"
        survived += 1
    assert survived == KILL_POINTS == len(phases)


def test_a_second_run_on_the_same_output_is_refused_not_interleaved(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    finish(reference)
    out = tmp_path / "shared"
    first = start(out, delay_ms=30)
    deadline = time.monotonic() + 60
    while stored_lines(out) < 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    second = start(out)
    _, err = second.communicate(timeout=60)
    assert first.poll() is None, "the first run ended before the second one started"
    assert second.returncode == 2
    assert len(err.splitlines()) == 1 and "another s2sbench run is writing" in err
    assert "Traceback" not in err
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    got, want = outcome(out), outcome(reference)
    assert got["results"] == want["results"] and got["files"] == want["files"]
