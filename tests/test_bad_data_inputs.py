"""Every data reader against the classes of careless or hostile files.

Readers: the dataset JSONL, the task YAML, the WAV files (``run`` and ``data
validate``), the CSV importers (``data build``), parquet (``data import`` and
``data export``) and the dataset manifest (``data validate``/``data info``).
Classes: empty, huge, the wrong type (a directory, a JSON array, text named
.wav), a symlink (good, dangling, to a FIFO), a FIFO, duplicate keys, other
encodings (UTF-16, Latin-1), a byte-order mark, NUL bytes, and the odd values
of issue 14 (uttids "²", "--4", 5,000 digits; JSON nested 100,000 deep; a
task name that climbs out of ``--output-path``).

Each refused case runs the real CLI and checks: exit 2, one stderr line
(``data validate``: one stdout line per problem and one stderr count line)
naming the file (and line or record) and saying what to do, no traceback,
every file that existed before byte-identical (a store may only grow), no
hang (a FIFO that is opened blocks forever: a 20 s alarm fails the test).
The cases are in ``bad_data_cases.py``, the input makers in ``bad_data_makers.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import bad_data_makers
import pytest
from bad_data_cases import CASES
from bad_data_makers import (
    GOOD_YAML,
    HASH,
    RATE,
    built,
    cli,
    deadline,
    fifo,
    jsonl,
    rows,
    run_text,
    snapshot,
)
from data_samples import STORIES_EN, story_csv

from s2sbench.cli.main import main
from s2sbench.data import layout
from s2sbench.scores.store import STORE_NAME


@pytest.fixture(scope="module", autouse=True)
def built_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    from s2sbench.data.build import build_dataset

    root = tmp_path_factory.mktemp("built")
    out = root / "set"
    build_dataset(story_csv(root, "en"), out, kind="story", lang="en", jobs=1, progress=False)
    bad_data_makers.BUILT[:] = [out]
    yield


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder holding a finished earlier run."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    argv = ["--model", HASH, "--tasks", "sample_story_en", "--conditions", "t2t", "--limit", "3"]
    assert main(["run", *argv, "--output-path", str(out), "--no-progress"]) == 0
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_bad_file_is_one_clear_line(
    name: str, tmp_path: Path, earlier: Path, capsys: pytest.CaptureFixture
) -> None:
    case = CASES[name]
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    argv = case.make(tmp_path)
    if argv[0] == "run":
        argv += ["--output-path", str(out), "--no-progress"]
    before = snapshot(tmp_path)
    code, stdout, err = cli(argv, capsys)

    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err + stdout, err
    if argv[:2] == ["data", "validate"]:  # one line per problem on stdout, a count on stderr
        assert "problem(s)" in err
        line = next((x for x in stdout.splitlines() if case.expect[0] in x), stdout)
    else:
        line = err.strip()
        assert line.startswith("s2sbench: error: ") and " -- " in line, line
    for text in case.expect:
        assert text in line, f"{text!r} not in: {line}"
    assert len(line) < 600  # a huge input is not quoted back
    after = snapshot(tmp_path)
    store = f"out/{STORE_NAME}"
    assert after.pop(store)[: len(before[store])] == before.pop(store)  # type: ignore[index]
    assert after == before
    assert not list(tmp_path.parent.rglob("ESCAPED*"))


def test_catalogue_covers_every_reader_and_class() -> None:
    """Each reader meets each class of bad file (a missing pair here is a gap in the suite)."""
    readers = {"jsonl", "yaml", "wav", "validate", "info", "csv", "parquet", "export"}
    assert {name.split("_")[0] for name in CASES} >= readers - {"uttid"}
    classes = {
        "jsonl": ("empty", "huge", "directory", "symlink", "fifo", "duplicate", "utf16", "latin1",
                  "nul"),
        "yaml": ("empty", "huge", "directory", "fifo", "duplicate", "utf16", "nul", "bomb"),
        "wav": ("fifo", "symlink", "utf16", "nul"),
        "csv": ("empty", "fifo", "directory", "utf16", "latin1", "nul", "duplicate", "huge"),
        "parquet": ("text", "empty", "fifo"),
    }  # fmt: skip
    for reader, wanted in classes.items():
        names = [n for n in CASES if n.startswith(reader + "_")]
        for cls in wanted:
            assert any(cls in n for n in names), f"no {reader} case for {cls}"


# -- handled on purpose, not refused --------------------------------------------------------------
def samples_of(tmp: Path, argv: list[str], capsys: pytest.CaptureFixture) -> bytes:
    out = tmp / "out"
    code, _, err = cli([*argv, "--output-path", str(out), "--log-samples", "--no-progress"], capsys)
    assert (code, err) == (0, "")
    (path,) = out.glob("samples_*.jsonl")
    data = path.read_bytes()
    shutil.rmtree(out)
    return data


def test_a_bom_and_symlinks_to_regular_files_are_read_as_the_plain_files(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = run_text(tmp_path)
    clean = samples_of(tmp_path, argv, capsys)
    data = tmp_path / "data"
    (data / "bad.jsonl").write_bytes(b"\xef\xbb\xbf" + jsonl(rows()))
    (data / "task.yaml").write_bytes(b"\xef\xbb\xbf" + GOOD_YAML.encode())
    assert samples_of(tmp_path, argv, capsys) == clean
    (data / "real.jsonl").write_bytes(jsonl(rows()))
    (data / "bad.jsonl").unlink()
    (data / "bad.jsonl").symlink_to(data / "real.jsonl")
    (data / "link.yaml").symlink_to(data / "task.yaml")  # relative paths: from the link's folder
    assert samples_of(tmp_path, [*argv[:4], str(data / "link.yaml"), *argv[5:]], capsys) == clean


def test_a_fifo_stops_data_validate_but_the_other_files_are_still_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = built(tmp_path)
    (root / "audio" / "2.wav").unlink()
    fifo(root / "audio" / "2.wav")
    (root / "audio" / "5.wav").write_bytes(b"\x00" * 100)
    code, stdout, _ = cli(["data", "validate", str(root)], capsys)
    assert code == 2
    assert any(x.startswith("audio/2.wav: audio file is a FIFO") for x in stdout.splitlines())
    assert any(x.startswith("audio/5.wav: corrupt audio") for x in stdout.splitlines())
    assert any(x.startswith("audio/2.wav: listed in manifest.json but not a regular file")
               for x in stdout.splitlines())  # fmt: skip
    code, stdout, _ = cli(["data", "info", str(root)], capsys)
    assert code == 0 and "1 context files missing" in stdout


def test_the_manifest_size_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    root = built(tmp_path)
    monkeypatch.setattr(layout, "MAX_MANIFEST_BYTES", 100)
    code, _, err = cli(["data", "info", str(root)], capsys)
    assert code == 2 and "manifest.json: manifest is larger than 100 bytes" in err


def test_an_imported_csv_keeps_its_stories(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The CSV reader's BOM and CRLF handling: the same dataset as the clean file."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    clean = story_csv(tmp_path / "a", "en")
    messy = tmp_path / "b" / "story_en.csv"
    messy.write_bytes(
        b"\xef\xbb\xbf" + clean.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    )
    for src, out in ((clean, "out_a"), (messy, "out_b")):
        argv = ["data", "build", str(src), "--kind", "story", "--lang", "en"]
        code, _, err = cli(
            [*argv, "--out", str(tmp_path / out), "--jobs", "1", "--no-progress"], capsys
        )
        assert (code, err) == (0, "")
    a = (tmp_path / "out_a" / "data.jsonl").read_bytes()
    assert a == (tmp_path / "out_b" / "data.jsonl").read_bytes()
    assert a.count(b"\n") == 2 * len(STORIES_EN)


def test_output_file_keeps_every_written_path_inside_the_output_folder(tmp_path: Path) -> None:
    from s2sbench.core.errors import StoreError
    from s2sbench.core.output_files import output_file

    root = tmp_path / "out"
    (root / "sub").mkdir(parents=True)
    assert output_file(root, "summaries", "t_s2t", "results_summary.txt").parent.name == "t_s2t"
    for bad in ("../x", "a/../../x", "/etc/passwd", "", "a\0b"):
        with pytest.raises(StoreError, match="would leave the output folder"):
            output_file(root, bad)
    (tmp_path / "elsewhere").mkdir()
    (root / "linked").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(StoreError, match="outside the output folder"):
        output_file(root, "linked", "results_summary.txt")


def test_a_symlinked_samples_file_is_refused_before_anything_is_written(
    tmp_path: Path, earlier: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    (tmp_path / "victim.txt").write_text("keep me\n")
    (out / "samples_bad_task_t2t.jsonl").symlink_to(tmp_path / "victim.txt")
    argv = [*run_text(tmp_path), "--output-path", str(out), "--log-samples", "--no-progress"]
    before = snapshot(tmp_path)
    code, _, err = cli(argv, capsys)
    # The output folder's regular-file check names the link before the containment check would.
    assert code == 2 and len(err.splitlines()) == 1
    assert "samples_bad_task_t2t.jsonl: is a symbolic link" in err
    after = snapshot(tmp_path)
    store = f"out/{STORE_NAME}"
    assert after.pop(store)[: len(before[store])] == before.pop(store)  # type: ignore[index]
    assert after == before and (tmp_path / "victim.txt").read_text() == "keep me\n"


def test_the_audio_readers_every_adapter_uses_refuse_a_fifo(tmp_path: Path) -> None:
    """Adapters decode by path (``read_audio``, ``AudioLoader``, ``probe_audio``): a FIFO there
    is an error naming it, not a read that waits forever for a writer."""
    from s2sbench.core.errors import DataError
    from s2sbench.data.audio import AudioLoader, probe_audio, read_audio

    fifo(tmp_path / "2.wav")
    for read in (probe_audio, lambda p: read_audio(p, RATE), AudioLoader(RATE, 30.0).load):
        with deadline(), pytest.raises(DataError, match=r"2\.wav: audio file is a FIFO"):
            read(tmp_path / "2.wav")


def test_a_fifo_task_yaml_in_a_dataset_folder_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = built(tmp_path)
    (root / "task.yaml").unlink()
    fifo(root / "task.yaml")
    code, _, err = cli(["data", "info", str(root)], capsys)
    assert code == 2 and "task.yaml: task file is a FIFO" in err and len(err.splitlines()) == 1
