"""The output directory's files: s2sbench changes only what it wrote, and only regular files.

A file named ``scores.jsonl`` that s2sbench did not write (one line or many),
a symlink or a FIFO in place of the store, the lock or ``results.json``, a lock
file that is a directory: each is one clear line naming it, exit 2, and the
file (or the link's target) byte-identical afterwards. Stores written before
the header existed are still ours and keep resuming. Only temp files of
s2sbench's own naming, whose writer is gone, are cleaned up. The lock file is
removed on exit without letting two writers in.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fake_models import HashModel

from s2sbench import evaluate
from s2sbench.cli.main import main
from s2sbench.core import dir_lock
from s2sbench.core.dir_lock import lock_directory
from s2sbench.core.errors import StoreError
from s2sbench.scores.records import STORE_HEADER, crc
from s2sbench.scores.store import LOCK_NAME, STORE_NAME, ScoreStore

TESTS = Path(__file__).resolve().parent
RUN = ["run", "--model", "fake_models:HashModel", "--tasks", "sample_story_en"]
RUN += ["--conditions", "t2t", "--limit", "3", "--no-progress"]


def run_cli(out: Path, capsys: pytest.CaptureFixture, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main([*RUN, *extra, "--output-path", str(out)])
    return code, capsys.readouterr().err


def one_line(err: str, *expect: str) -> None:
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("s2sbench: error: ") and " -- " in err, err
    for text in expect:
        assert text in err, f"{text!r} not in {err!r}"


def run_api(out: Path, model: HashModel | None = None, limit: int = 3) -> dict[str, Any]:
    return evaluate(
        model=model or HashModel(),
        tasks=["sample_story_en"],
        conditions=["t2t"],
        output_path=out,
        limit=limit,
        progress=False,
    ).to_json()


# -- files s2sbench did not write ----------------------------------------------------------------
FOREIGN = {
    "one_line_no_newline": b"my own notes",
    "one_line": b'{"step": 1, "loss": 2.5}\n',
    "jsonl_of_another_tool": b'{"a": 1}\n{"a": 2}\n{"a": 3}\n',
    "binary": bytes(range(256)),
    "torn_header": STORE_HEADER.encode()[:10],
}


@pytest.mark.parametrize("name", list(FOREIGN))
def test_a_foreign_scores_jsonl_is_refused_untouched(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / STORE_NAME).write_bytes(FOREIGN[name])
    code, err = run_cli(out, capsys)
    assert code == 2
    one_line(err, str(out / STORE_NAME), "not a score store of s2sbench", "move it away")
    assert (out / STORE_NAME).read_bytes() == FOREIGN[name]
    assert sorted(p.name for p in out.iterdir()) == [STORE_NAME]  # no lock, no results


def test_a_store_of_a_newer_format_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    newer = b'{"s2sbench_score_store": 2}\n'
    (out / STORE_NAME).write_bytes(newer)
    code, err = run_cli(out, capsys)
    assert code == 2
    one_line(err, f"{STORE_NAME}:1", "format 2", "upgrade s2sbench")
    assert (out / STORE_NAME).read_bytes() == newer


def test_a_store_written_before_the_header_keeps_resuming(tmp_path: Path) -> None:
    """The previous version's stores have no header; their checksummed lines prove them ours."""
    out = tmp_path / "old"
    reference = run_api(tmp_path / "reference", limit=5)
    run_api(out, limit=3)
    store = out / STORE_NAME
    header, *records = store.read_bytes().splitlines(keepends=True)
    assert header == (STORE_HEADER + "\n").encode()
    store.write_bytes(b"".join(records))  # as s2sbench wrote it before the header existed
    (out / "results.json").unlink()
    model = HashModel()
    resumed = run_api(out, model, limit=5)
    assert model.calls == 2  # the three stored items are reused, not rescored
    assert resumed["results"] == reference["results"]
    lines = store.read_bytes().splitlines(keepends=True)
    assert lines[:3] == records and len(lines) == 5  # appended to, never given a header
    assert lines[3:] == (tmp_path / "reference" / STORE_NAME).read_bytes().splitlines(True)[4:]


def test_an_empty_store_file_is_started_with_the_header(tmp_path: Path) -> None:
    (tmp_path / STORE_NAME).write_bytes(b"")
    run_api(tmp_path)
    assert (tmp_path / STORE_NAME).read_bytes().startswith((STORE_HEADER + "\n").encode())


def store_line(entry: dict[str, Any]) -> bytes:
    return (json.dumps({**entry, "crc": crc(entry)}) + "\n").encode()


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (lambda s: s.update(n_tokens=0), "n_tokens=0"),
        (lambda s: s.update(n_tokens=-2), "n_tokens=-2"),
        (lambda s: s.update(logprob_sum=float("nan")), "logprob_sum=nan"),
        (lambda s: s.update(logprob_sum=float("-inf")), "logprob_sum=-inf"),
    ],
)
def test_a_checksummed_line_with_unusable_numbers_is_an_error_naming_it(
    change: Any, expect: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    run_api(out)
    store = out / STORE_NAME
    lines = store.read_bytes().splitlines(keepends=True)
    entry = json.loads(lines[2])
    entry.pop("crc")
    change(entry["scores"][1])
    lines[2] = store_line(entry)
    store.write_bytes(b"".join(lines))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err = run_cli(out, capsys)
    assert code == 2
    one_line(err, f"{store}:3", "continuation 1", expect)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert "NaN" not in (out / "results.json").read_text()


# -- links and FIFOs: never followed, never opened for blocking ----------------------------------
@pytest.mark.parametrize("name", [STORE_NAME, "results.json", LOCK_NAME])
def test_a_symlink_in_the_output_directory_is_refused_and_its_target_kept(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "precious.txt"
    target.write_bytes(b"the user's own file\n")
    (out / name).symlink_to(target)
    code, err = run_cli(out, capsys)
    assert code == 2
    one_line(err, str(out / name), "symbolic link")
    assert target.read_bytes() == b"the user's own file\n"
    assert (out / name).is_symlink()


def run_subprocess(out: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child with a timeout: a FIFO that blocked would hang, not pass."""
    env = {**os.environ, "PYTHONPATH": f"{TESTS}:{TESTS.parent}"}
    return subprocess.run(
        [sys.executable, "-m", "s2sbench", *RUN, "--output-path", str(out), "--log-samples"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize(
    "name", [STORE_NAME, "results.json", LOCK_NAME, "samples_sample_story_en_t2t.jsonl"]
)
def test_a_fifo_in_the_output_directory_is_refused_without_hanging(
    name: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / name)
    done = run_subprocess(out)
    assert done.returncode == 2
    one_line(done.stderr, str(out / name), "FIFO")
    assert (out / name).is_fifo()


@pytest.mark.parametrize("name", [LOCK_NAME, STORE_NAME, "results.json"])
def test_a_directory_where_a_file_belongs_is_named(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    (out / name).mkdir(parents=True)
    (out / name / "inside").write_text("kept")
    code, err = run_cli(out, capsys)
    assert code == 2
    one_line(err, str(out / name), "directory")
    assert (out / name / "inside").read_text() == "kept"


# -- temp files: only ours, only once their writer is gone ---------------------------------------
def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_clean_up_removes_only_temp_files_of_a_dead_s2sbench_writer(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    gone = dead_pid()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        ours_dead = out / f".results.json.s2sbench-{gone}-abcd1234.tmp"
        ours_live = out / f".results.json.s2sbench-{sleeper.pid}-abcd1234.tmp"
        users = {
            ".notes.tmp": b"mine",
            ".results.json.k3j4h5g6.tmp": b"old-style name: not provably ours",
            f".x.s2sbench-{gone}-short.tmp": b"not our pattern",
        }
        for name, data in users.items():
            (out / name).write_bytes(data)
        (out / ".cache.tmp").mkdir()
        (out / ".cache.tmp" / "f").write_text("inside a directory")
        ours_dead.write_text("{half")
        ours_live.write_text("{being written")
        code, err = run_cli(out, capsys)
        assert (code, err) == (0, "")
        assert not ours_dead.exists()
        assert ours_live.read_text() == "{being written"  # its writer may still rename it
        for name, data in users.items():
            assert (out / name).read_bytes() == data
        assert (out / ".cache.tmp" / "f").read_text() == "inside a directory"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_output_path_dot_keeps_the_users_hidden_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The issue's case: ``--output-path .`` in a folder of the user's own ``.*.tmp`` files."""
    monkeypatch.chdir(tmp_path)
    for name in (".draft.tmp", ".vimrc.tmp", ".results.json.tmp"):
        (tmp_path / name).write_text(name)
    capsys.readouterr()
    assert main([*RUN, "--output-path", "."]) == 0
    for name in (".draft.tmp", ".vimrc.tmp", ".results.json.tmp"):
        assert (tmp_path / name).read_text() == name


# -- the lock file: gone after a clean exit, exclusion kept ---------------------------------------
def test_no_lock_file_stays_after_a_run_or_a_failed_one(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    assert run_cli(out, capsys) == (0, "")
    assert not (out / LOCK_NAME).exists()
    assert run_cli(out, capsys, "--limit", "9", "--model-args", "fail_after=2")[0] == 130
    assert not (out / LOCK_NAME).exists()  # interrupted while scoring: released and removed
    with ScoreStore(out):
        assert (out / LOCK_NAME).exists()
    assert not (out / LOCK_NAME).exists()


def test_a_locker_that_locked_a_removed_lock_file_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B opens the lock file, A removes it and unlocks, B locks the dead inode: B must notice.

    Without the check B would think it holds the directory while C, creating
    the file anew, locks it too: two writers.
    """
    first = lock_directory(tmp_path, LOCK_NAME, "run")
    locks: list[int] = []

    def flock_after_the_holder_left(fd: int, op: int) -> None:
        if op & fcntl.LOCK_EX:
            locks.append(fd)
            if len(locks) == 1:  # A removes the file and unlocks between B's open and flock
                first.release()
        fcntl.flock(fd, op)

    clock = SimpleNamespace(**{k: getattr(fcntl, k) for k in ("LOCK_EX", "LOCK_NB", "LOCK_UN")})
    monkeypatch.setattr(dir_lock, "fcntl", clock)
    clock.flock = flock_after_the_holder_left
    second = lock_directory(tmp_path, LOCK_NAME, "run")
    monkeypatch.undo()
    assert len(locks) == 2  # B locked the dead inode first, then the file the path names
    named = os.stat(tmp_path / LOCK_NAME)
    held = os.fstat(second.fd)
    assert (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)
    with pytest.raises(StoreError, match="another s2sbench run"):
        lock_directory(tmp_path, LOCK_NAME, "run")  # C is refused: one writer
    second.release()
    assert not (tmp_path / LOCK_NAME).exists()


def test_an_abandoned_store_drops_its_lock_when_collected(tmp_path: Path) -> None:
    import gc

    store = ScoreStore(tmp_path)
    del store  # never closed, as by a caller that forgot to
    gc.collect()
    with ScoreStore(tmp_path):
        pass
