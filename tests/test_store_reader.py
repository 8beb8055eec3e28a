"""The read-only store reader: the store's own checks, for every reader of scores.jsonl.

Reports rebuild per-item records from ``scores.jsonl`` when a run kept no
sample logs. They now read it through ``read_store``, as the store itself does:
checksums hold, a torn last line (a killed run) is left out, a damaged line is
one clear error, and the file is never changed by reading it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_models import HashModel

from s2sbench import evaluate
from s2sbench.core.errors import StoreError
from s2sbench.reports.run_records import load_run
from s2sbench.scores.store import STORE_NAME, ScoreStore
from s2sbench.scores.store_reader import read_store

TASK, COND = "sample_story_en", "t2t"


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    """A finished run of 5 stories without sample logs: reports must read scores.jsonl."""
    out = tmp_path / "run"
    evaluate(
        HashModel(salt="r"), tasks=TASK, conditions=COND, output_path=out, limit=5, progress=False
    )
    assert not list(out.glob("samples_*"))
    return out


def test_reader_sees_what_the_store_loads(run_dir: Path) -> None:
    stored = list(read_store(run_dir / STORE_NAME))
    assert len(stored) == 5
    with ScoreStore(run_dir) as store:
        for entry in stored:
            assert store.get(entry.model, entry.key) == entry.record


def test_torn_last_line_is_left_out_and_the_file_untouched(run_dir: Path) -> None:
    path = run_dir / STORE_NAME
    whole = path.read_bytes()
    last = whole.rstrip(b"\n").split(b"\n")[-1]
    torn = whole + last[: len(last) // 2]  # a run killed in the middle of its next append
    path.write_bytes(torn)
    assert len(list(read_store(path))) == 5
    assert path.read_bytes() == torn  # reading never repairs: only the store's writer cuts
    records = load_run(run_dir).records(TASK, COND)
    assert sorted(r.item_id for r in records) == sorted(s.record.item_id for s in read_store(path))


def test_an_edited_record_is_refused_by_the_report_reader(run_dir: Path) -> None:
    """The old report reader parsed each line with json.loads: an edited score went through."""
    path = run_dir / STORE_NAME
    lines = path.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[2])
    entry["scores"][0]["logprob_sum"] += 1.0  # the checksum no longer holds
    lines[2] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(StoreError, match=rf"{STORE_NAME}:3: damaged record"):
        load_run(run_dir).records(TASK, COND)
    with pytest.raises(StoreError, match=rf"{STORE_NAME}:3: damaged record"):
        list(read_store(path))


def test_an_absent_store_is_empty(tmp_path: Path) -> None:
    assert list(read_store(tmp_path / STORE_NAME)) == []
