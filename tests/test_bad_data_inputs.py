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
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from data_samples import STORIES_EN, story_csv

from s2sbench.cli.main import main
from s2sbench.data import layout
from s2sbench.scores.store import LOCK_NAME, STORE_NAME

HASH = "fake_models:HashModel"
EAR = "test_bad_data_inputs:HearingModel"
RATE = 16000


class HearingModel:
    """Opens each spoken context by path (as every audio adapter does) and scores by its size."""

    name = "hearing"

    def __init__(self, **_: Any) -> None:
        pass

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": self.name}

    def unsupported_reason(self, condition: Any, lang: str) -> str | None:
        return "text continuations only" if condition.continuation_is_speech else None

    def score(self, requests: Any) -> Iterator[tuple[int, list[Any]]]:
        from s2sbench.models.base import ContinuationScore

        for index, request in enumerate(requests):
            size = Path(request.context_audio).stat().st_size if request.context_audio else 1
            yield index, [ContinuationScore(-1.0 - (size + i) % 7, 2) for i in range(2)]


# -- inputs --------------------------------------------------------------------------------------
def rows(n: int = 2) -> list[dict[str, Any]]:
    out = []
    for k in range(n):
        first = f"Story {k} starts. It goes on."
        out.append({"uttid": 2 * k, "first": first, "last": f"Right end {k}."})
        out.append({"uttid": 2 * k + 1, "first": first, "last": f"Wrong end {k}."})
    return out


def jsonl(records: list[Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


GOOD_YAML = "name: bad_task\nkind: story\nlanguage: en\njsonl: bad.jsonl\naudio_dir: wav\n"


def tone(path: Path) -> Path:
    t = np.arange(RATE // 2) / RATE
    sf.write(str(path), 0.3 * np.sin(2 * np.pi * 220 * t), RATE, subtype="PCM_16")
    return path


def dataset(tmp: Path, data: bytes | None = None, yaml: str = GOOD_YAML) -> Path:
    """``tmp/data``: bad.jsonl, task.yaml, and a tone per row in wav/; returns the folder."""
    root = tmp / "data"
    (root / "wav").mkdir(parents=True, exist_ok=True)
    (root / "bad.jsonl").write_bytes(jsonl(rows()) if data is None else data)
    (root / "task.yaml").write_text(yaml)
    for uttid in range(4):
        tone(root / "wav" / f"{uttid}.wav")
    return root


def run_text(tmp: Path, data: bytes | None = None, yaml: str = GOOD_YAML) -> list[str]:
    root = dataset(tmp, data, yaml)
    return ["run", "--model", HASH, "--tasks", str(root / "task.yaml"), "--conditions", "t2t"]


def run_heard(tmp: Path, change: Callable[[Path], Any]) -> list[str]:
    """The two-story task under S2T, with ``change`` applied to wav/2.wav."""
    root = dataset(tmp)
    (root / "wav" / "2.wav").unlink()
    change(root / "wav" / "2.wav")
    return ["run", "--model", EAR, "--tasks", str(root / "task.yaml"), "--conditions", "s2t"]


def run_file(tmp: Path, change: Callable[[Path], Any]) -> list[str]:
    """The task whose bad.jsonl is replaced by what ``change`` makes of it."""
    args = run_text(tmp)
    path = tmp / "data" / "bad.jsonl"
    path.unlink()
    change(path)
    return args


def run_yaml_file(tmp: Path, change: Callable[[Path], Any]) -> list[str]:
    args = run_text(tmp)
    path = tmp / "data" / "task.yaml"
    path.unlink()
    change(path)
    return args


def with_row(change: Callable[[dict[str, Any]], Any], index: int = 1) -> bytes:
    records = rows()
    change(records[index])
    return jsonl(records)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def symlink_to_fifo(path: Path) -> None:
    os.mkfifo(path.with_name("pipe"))
    path.symlink_to(path.with_name("pipe"))


def built(tmp: Path) -> Path:
    """A small built dataset (data build with espeak), copied from a module fixture."""
    return shutil.copytree(BUILT[0], tmp / "set")


def validate(tmp: Path, change: Callable[[Path], Any]) -> list[str]:
    root = built(tmp)
    change(root)
    return ["data", "validate", str(root)]


def info(tmp: Path, change: Callable[[Path], Any]) -> list[str]:
    root = built(tmp)
    change(root)
    return ["data", "info", str(root)]


def build_from(tmp: Path, make: Callable[[Path], Any], name: str = "src.csv") -> list[str]:
    make(tmp / name)
    return ["data", "build", str(tmp / name), "--kind", "story", "--lang", "en",
            "--out", str(tmp / "built"), "--jobs", "1", "--no-progress"]  # fmt: skip


def csv_bytes(tmp: Path) -> bytes:
    return story_csv(tmp / "csv_src", "en").read_bytes()


def write_csv(transform: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.parent.joinpath("csv_src").mkdir(exist_ok=True)
        path.write_bytes(transform(csv_bytes(path.parent)))

    return make


def import_from(tmp: Path, make: Callable[[Path], Any], name: str = "in.parquet") -> list[str]:
    make(tmp / name)
    return ["data", "import", str(tmp / name), "--out", str(tmp / "imported")]


def export_to(tmp: Path, make: Callable[[Path], Any]) -> list[str]:
    root = built(tmp)
    make(tmp / "exported")
    return ["data", "export", str(root), "--out", str(tmp / "exported")]


def deep_json(depth: int = 100_000) -> bytes:
    return b'{"uttid": 0, "first": "a", "last": "b", "x": ' + b"[" * depth + b"]" * depth + b"}\n"


def bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        lines.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [{', '.join(['*' + prev] * 9)}]")
    return GOOD_YAML.replace("name: bad_task\n", "") + "\n".join(lines) + "\nname: *j\n"


# -- the catalogue -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    make: Callable[[Path], list[str]]
    expect: tuple[str, ...]


J = "bad.jsonl"
CASES: dict[str, Case] = {
    # dataset JSONL
    "jsonl_empty": Case(lambda t: run_text(t, b""), (J, "no rows")),
    "jsonl_only_blank_lines": Case(lambda t: run_text(t, b"\n  \r\n\t\n"), (J, "no rows")),
    "jsonl_huge_garbage_line": Case(
        lambda t: run_text(t, b"x" * 20_000_000 + b"\n"), (f"{J}:1", "invalid JSON")
    ),
    "jsonl_is_a_directory": Case(lambda t: run_file(t, Path.mkdir), (J, "is a directory")),
    "jsonl_top_level_string": Case(lambda t: run_text(t, b'"a story"\n'), (f"{J}:1", "object")),
    "jsonl_symlink_dangling": Case(
        lambda t: run_file(t, lambda p: p.symlink_to(p.with_name("gone"))), (J, "not found")
    ),
    "jsonl_fifo": Case(lambda t: run_file(t, fifo), (J, "FIFO")),
    "jsonl_symlink_to_fifo": Case(lambda t: run_file(t, symlink_to_fifo), (J, "FIFO")),
    "jsonl_duplicate_key": Case(
        lambda t: run_text(t, jsonl(rows()).replace(b'"last"', b'"last": "x", "last"', 1)),
        (f"{J}:1", "duplicate key 'last'"),
    ),
    "jsonl_utf16_with_bom": Case(
        lambda t: run_text(t, jsonl(rows()).decode().encode("utf-16")), (J, "UTF-16")
    ),
    "jsonl_utf16_without_bom": Case(
        lambda t: run_text(t, jsonl(rows()).decode().encode("utf-16-le")), (f"{J}:1", "JSON")
    ),
    "jsonl_latin1": Case(
        lambda t: run_text(t, jsonl(rows()).replace(b"Story 1", "Stóry".encode("latin-1"))),
        (f"{J}:3", "invalid UTF-8"),
    ),
    "jsonl_nul_in_a_value": Case(
        lambda t: run_text(t, jsonl(rows()).replace(b"Right end 0.", b"Right\x00end")),
        (f"{J}:1", "invalid JSON"),
    ),
    "jsonl_nul_line": Case(lambda t: run_text(t, jsonl(rows()) + b"\x00\x00\n"), (f"{J}:5",)),
    "jsonl_nested_100k_deep": Case(lambda t: run_text(t, deep_json()), (f"{J}:1", "too deeply")),
    "uttid_superscript_two": Case(
        lambda t: run_text(t, with_row(lambda r: r.update(uttid="²"))), (f"{J}:2", "'²'")
    ),
    "uttid_double_minus": Case(
        lambda t: run_text(t, with_row(lambda r: r.update(uttid="--4"))), (f"{J}:2", "'--4'")
    ),
    "uttid_5000_digit_string": Case(
        lambda t: run_text(t, with_row(lambda r: r.update(uttid="9" * 5000))),
        (f"{J}:2", "uttid too large (5000 digits)"),
    ),
    "uttid_5000_digit_number": Case(
        lambda t: run_text(
            t, jsonl(rows()).replace(b'"uttid": 1,', b'"uttid": ' + b"7" * 5000 + b",")
        ),
        (f"{J}:2", "number too long"),
    ),
    "uttid_4000_digit_number": Case(
        lambda t: run_text(
            t, jsonl(rows()).replace(b'"uttid": 1,', b'"uttid": ' + b"7" * 4000 + b",")
        ),
        (f"{J}:2", "uttid too large (4000 digits)"),
    ),
    # task YAML
    "yaml_empty": Case(lambda t: run_text(t, yaml=""), ("task.yaml", "mapping")),
    "yaml_huge": Case(
        lambda t: run_text(t, yaml=GOOD_YAML + "# " + "x" * (2 << 20) + "\n"),
        ("task.yaml", "larger than 1,048,576 bytes"),
    ),
    "yaml_is_a_directory": Case(lambda t: run_yaml_file(t, Path.mkdir), ("task.yaml", "directory")),
    "yaml_fifo": Case(lambda t: run_yaml_file(t, fifo), ("task.yaml", "FIFO")),
    "yaml_duplicate_key": Case(
        lambda t: run_text(
            t, yaml=GOOD_YAML.replace("language: en\n", "kind: choice\nlanguage: en\n")
        ),
        ("task.yaml:3", "duplicate key 'kind' (first on line 2)"),
    ),
    "yaml_alias_bomb": Case(
        lambda t: run_text(t, yaml=bomb()), ("task.yaml:5", "anchors (&name) are not allowed")
    ),
    "yaml_alias_without_anchor": Case(
        lambda t: run_text(t, yaml=GOOD_YAML + "extra: *nowhere\n"), ("task.yaml:6", "alias")
    ),
    "yaml_anchor": Case(
        lambda t: run_text(t, yaml=GOOD_YAML.replace("kind: story", "kind: &k story")),
        ("task.yaml:2", "anchors"),
    ),
    "yaml_utf16": Case(
        lambda t: run_yaml_file(t, lambda p: p.write_bytes(GOOD_YAML.encode("utf-16"))),
        ("task.yaml", "UTF-8"),
    ),
    "yaml_nul_byte": Case(
        lambda t: run_text(t, yaml=GOOD_YAML.replace("bad_task", "bad\x00task")),
        ("task.yaml", "invalid YAML"),
    ),
    "yaml_name_climbs_out": Case(
        lambda t: [
            *run_text(t, yaml=GOOD_YAML.replace("bad_task", "x/../../../ESCAPED")),
            "--log-samples",
        ],  # fmt: skip
        ("task.yaml", "'x/../../../ESCAPED'", "plain name"),
    ),
    "yaml_name_not_text": Case(
        lambda t: run_text(t, yaml=GOOD_YAML.replace("bad_task", "[a, b]")),
        ("task.yaml", "plain name"),
    ),
    # WAV, heard by a run
    "wav_fifo": Case(lambda t: run_heard(t, fifo), ("wav/2.wav", "FIFO")),
    "wav_symlink_to_fifo": Case(lambda t: run_heard(t, symlink_to_fifo), ("wav/2.wav", "FIFO")),
    "wav_symlink_dangling": Case(
        lambda t: run_heard(t, lambda p: p.symlink_to(p.with_name("gone.wav"))),
        ("wav/2.wav", "not found"),
    ),
    "wav_symlink_to_a_device": Case(
        lambda t: run_heard(t, lambda p: p.symlink_to("/dev/zero")), ("wav/2.wav", "leaves")
    ),
    "wav_is_text_utf16": Case(
        lambda t: run_heard(t, lambda p: p.write_bytes("RIFF? no".encode("utf-16"))),
        ("wav/2.wav", "not a readable audio file"),
    ),
    "wav_nul_bytes": Case(
        lambda t: run_heard(t, lambda p: p.write_bytes(b"\x00" * 4096)),
        ("wav/2.wav", "not a readable audio file"),
    ),
    # WAV and manifest, read by data validate / data info
    "validate_wav_fifo": Case(
        lambda t: validate(t, lambda r: (os.unlink(r / "audio/2.wav"), fifo(r / "audio/2.wav"))),
        ("audio/2.wav", "FIFO", "uttid 2"),
    ),
    "validate_manifest_fifo": Case(
        lambda t: validate(
            t, lambda r: (os.unlink(r / "manifest.json"), fifo(r / "manifest.json"))
        ),
        ("manifest.json", "FIFO"),
    ),
    "validate_manifest_files_not_a_mapping": Case(
        lambda t: validate(t, lambda r: edit_manifest(r, files=["audio/0.wav"])),
        ("manifest.json", "'files' is not a mapping"),
    ),
    "validate_manifest_path_climbs_out": Case(
        lambda t: validate(
            t, lambda r: edit_manifest(r, files={"../../etc/passwd": {"sha256": "0"}})
        ),
        ("manifest.json", "'../../etc/passwd'", "leaves the dataset folder"),
    ),
    "info_manifest_not_json": Case(
        lambda t: info(t, lambda r: (r / "manifest.json").write_text("{oops")),
        ("manifest.json", "unreadable manifest"),
    ),
    "info_manifest_nested_100k_deep": Case(
        lambda t: info(t, lambda r: (r / "manifest.json").write_bytes(b"[" * 100_000)),
        ("manifest.json", "nested too deeply"),
    ),
    "info_manifest_latin1": Case(
        lambda t: info(
            t, lambda r: (r / "manifest.json").write_bytes('{"n": "é"}'.encode("latin-1"))
        ),
        ("manifest.json", "unreadable manifest"),
    ),
    # CSV importers
    "csv_empty": Case(
        lambda t: build_from(t, lambda p: p.write_bytes(b"")), ("src.csv", "columns")
    ),
    "csv_fifo": Case(lambda t: build_from(t, fifo), ("src.csv", "FIFO")),
    "csv_is_a_directory": Case(lambda t: build_from(t, Path.mkdir), ("src.csv", "directory")),
    "csv_utf16": Case(
        lambda t: build_from(t, write_csv(lambda b: b.decode().encode("utf-16"))),
        ("src.csv", "UTF-16"),
    ),
    "csv_latin1": Case(
        lambda t: build_from(t, write_csv(lambda b: b.replace(b"Tom", "Tóm".encode("latin-1")))),
        ("src.csv", "invalid UTF-8"),
    ),
    "csv_nul_byte": Case(
        lambda t: build_from(t, write_csv(lambda b: b.replace(b"Anna", b"An\x00na"))),
        ("src.csv:3", "NUL"),
    ),
    "csv_duplicate_column": Case(
        lambda t: build_from(
            t, write_csv(lambda b: b.replace(b"InputStoryid", b"InputSentence1", 1))
        ),
        ("src.csv:1", "duplicate column", "InputSentence1"),
    ),
    "csv_huge_field": Case(
        lambda t: build_from(t, write_csv(lambda b: b.replace(b"Tom wanted", b"T" * 200_000))),
        ("src.csv:2", "unreadable CSV", "field limit"),
    ),
    # parquet import and export
    "parquet_is_text": Case(
        lambda t: import_from(t, lambda p: p.write_text("uttid,first\n0,a\n")),
        ("in.parquet", "not a readable parquet file"),
    ),
    "parquet_named_csv": Case(
        lambda t: import_from(t, write_csv(lambda b: b), name="stories.csv"),
        ("stories.csv", "not a readable parquet file"),
    ),
    "parquet_empty": Case(
        lambda t: import_from(t, lambda p: p.write_bytes(b"")), ("in.parquet", "not a readable")
    ),
    "parquet_fifo": Case(lambda t: import_from(t, fifo), ("in.parquet", "FIFO")),
    "parquet_empty_folder": Case(
        lambda t: import_from(t, Path.mkdir, name="folder"), ("folder", "no .parquet files")
    ),
    "parquet_hostile_audio_name": Case(
        lambda t: import_from(t, hostile_parquet), ("in.parquet", "'..'", "plain <name>.wav")
    ),
    "export_onto_an_existing_file": Case(
        lambda t: export_to(t, lambda p: p.write_text("my notes\n")),
        ("exported", "not a folder"),
    ),
    "export_onto_a_foreign_readme": Case(
        lambda t: export_to(t, lambda p: (p.mkdir(), (p / "README.md").write_text("mine\n"))),
        ("exported/README.md", "did not write"),
    ),
}


def edit_manifest(root: Path, **change: Any) -> None:
    data = json.loads((root / "manifest.json").read_text())
    data.update(change)
    (root / "manifest.json").write_text(json.dumps(data))


def hostile_parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    row = {"uttid": 0, "first": "a", "last": "b", "audio": {"bytes": b"RIFF", "path": ".."}}
    table = pa.Table.from_pylist([row]).replace_schema_metadata(
        {b"s2sbench": json.dumps({"kind": "story", "language": "en"}).encode()}
    )
    pq.write_table(table, path)


# -- the runner ----------------------------------------------------------------------------------
BUILT: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def built_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    from s2sbench.data.build import build_dataset

    root = tmp_path_factory.mktemp("built")
    out = root / "set"
    build_dataset(story_csv(root, "en"), out, kind="story", lang="en", jobs=1, progress=False)
    BUILT[:] = [out]
    yield


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder holding a finished earlier run."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    argv = ["--model", HASH, "--tasks", "sample_story_en", "--conditions", "t2t", "--limit", "3"]
    assert main(["run", *argv, "--output-path", str(out), "--no-progress"]) == 0
    return out


@contextmanager
def deadline(seconds: float = 20.0) -> Iterator[None]:
    """Fail instead of hanging: opening a FIFO for reading blocks until a writer comes."""

    def hung(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(root: Path) -> dict[str, bytes | int | str]:
    """Every regular file under ``root`` (big ones by size), FIFOs and links by their kind."""
    files: dict[str, bytes | int | str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            files[rel] = f"-> {os.readlink(path)}"
        elif path.is_fifo():
            files[rel] = "fifo"
        elif path.is_file() and path.name != LOCK_NAME:
            size = path.stat().st_size
            files[rel] = size if size > 1 << 20 else path.read_bytes()
    return files


def cli(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    capsys.readouterr()
    with deadline():
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


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
    from s2sbench.errors import StoreError
    from s2sbench.reports.io import output_file

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
    assert code == 2 and len(err.splitlines()) == 1 and "outside the output folder" in err
    after = snapshot(tmp_path)
    store = f"out/{STORE_NAME}"
    assert after.pop(store)[: len(before[store])] == before.pop(store)  # type: ignore[index]
    assert after == before and (tmp_path / "victim.txt").read_text() == "keep me\n"


def test_the_audio_readers_every_adapter_uses_refuse_a_fifo(tmp_path: Path) -> None:
    """Adapters decode by path (``read_audio``, ``AudioLoader``, ``probe_audio``): a FIFO there
    is an error naming it, not a read that waits forever for a writer."""
    from s2sbench.data.audio import AudioLoader, probe_audio, read_audio
    from s2sbench.errors import DataError

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
