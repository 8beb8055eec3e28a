"""Input makers for ``test_bad_data_inputs``: careless or hostile files, one function each.

Each ``run_*``/``validate``/``info``/``build_from``/``import_from``/``export_to``
builds its input under a test's ``tmp_path`` and returns the CLI arguments
that read it; ``deadline``, ``snapshot`` and ``cli`` run and observe the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from data_samples import story_csv

from s2sbench.cli.main import main
from s2sbench.scores.store import LOCK_NAME

HASH = "fake_models:HashModel"
EAR = "bad_data_makers:HearingModel"
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
        from s2sbench.core.scoring import ContinuationScore

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


BUILT: list[Path] = []  # the built dataset of the test module, set by its fixture


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
