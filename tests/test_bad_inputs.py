"""Bad-input catalogue: every malformed input is refused by the real CLI with one clear line.

Each case builds its input under ``tmp_path`` and runs ``s2sbench run`` into an
output directory that already holds an earlier run. The checks, the same for
all: a non-zero exit (2), exactly one stderr line that names the file or item
and says what to do (``what -- what to do``, or argparse's ``see --help``), no
traceback, and every file of the earlier run byte-identical afterwards
(``scores.jsonl`` may only have grown: finished work is kept). Inputs that are
*handled* rather than refused (BOM, CRLF, another sample rate, 8 channels)
are at the end, each shown to be read correctly.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fake_models import HashModel

from s2sbench.cli.main import main
from s2sbench.core import atomic_write as io_module
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore
from s2sbench.data.audio import AudioLoader
from s2sbench.scores import store as store_module
from s2sbench.scores.store import LOCK_NAME, STORE_NAME, ScoreStore

HASH = "fake_models:HashModel"
LISTEN = "test_bad_inputs:ListeningModel"
FAULTY = "test_bad_inputs:FaultyModel"
RATE = 16000


class ListeningModel:
    """A plugin that hears: decodes each spoken context through the library's ``AudioLoader``.

    16 kHz and a 30 s window, like the Whisper-style encoders of the bundled
    audio adapters, so audio meets the same checks and long-audio policy; the
    score hashes the decoded samples and ``extra`` records how many there were.
    """

    name = "listening"

    def __init__(self, long_audio: str = "error", **_runtime: Any):
        self.long_audio = long_audio
        self.loader = AudioLoader(RATE, 30.0, long_audio)  # type: ignore[arg-type]

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": self.name, "long_audio": self.long_audio}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return "text continuations only" if condition.continuation_is_speech else None

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[tuple[int, list[Any]]]:
        for index, request in enumerate(requests):
            extra: dict[str, Any] = {}
            if request.context_audio is not None:
                samples = self.loader.load_one(request.context_audio)
                seed = hashlib.sha256(samples.tobytes()).hexdigest()
                extra = {"n_samples": len(samples)}
            else:
                seed = request.text_context
            digests = [
                hashlib.sha256(f"{seed}|{c}".encode()).digest() for c in request.continuations
            ]
            yield index, [ContinuationScore(-1 - d[0] / 25.5, 3, extra) for d in digests]


class FaultyModel(HashModel):
    """``HashModel`` with one fault: ``drop`` request 1, ``short`` a score, ``infinite`` scores."""

    def __init__(self, fault: str = "drop", **kwargs: Any):
        super().__init__(**kwargs)
        self.fault = fault

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[tuple[int, list[Any]]]:
        for index, scores in super().score(requests):
            if self.fault == "drop" and index == 1:
                continue
            if self.fault == "short":
                scores = scores[:-1]
            if self.fault == "infinite":
                scores = [ContinuationScore(-math.inf, s.n_tokens) for s in scores]
            yield index, scores


def faulty(fault: str) -> list[str]:
    return ["--model", FAULTY, "--model-args", f"fault={fault}", *SAMPLE_T2T[2:], "--limit", "5"]


# -- input makers --------------------------------------------------------------------------------
def story_rows(n: int = 2) -> list[dict[str, Any]]:
    rows = []
    for k in range(n):
        first = f"Story {k} starts. It goes on."
        rows.append({"uttid": 2 * k, "first": first, "last": f"Right end {k}."})
        rows.append({"uttid": 2 * k + 1, "first": first, "last": f"Wrong end {k}."})
    return rows


def choice_rows() -> list[dict[str, Any]]:
    return [{"uttid": 0, "first": "Water is", "A": "wet.", "B": "dry.", "C": "red.", "D": "a"}]


def jsonl(rows: Sequence[Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def task(
    tmp: Path, rows: Sequence[Any] | bytes | None = None, kind: str = "story", yaml: str = ""
) -> list[str]:
    """``data/bad.jsonl`` + ``data/task.yaml`` (audio in ``data/wav``) -> the ``--tasks`` args."""
    data = tmp / "data"
    (data / "wav").mkdir(parents=True, exist_ok=True)
    raw = rows if isinstance(rows, bytes) else jsonl(story_rows() if rows is None else rows)
    (data / "bad.jsonl").write_bytes(raw)
    spec = yaml or f"name: bad_task\nkind: {kind}\nlanguage: en\njsonl: bad.jsonl\naudio_dir: wav\n"
    (data / "task.yaml").write_text(spec)
    return ["--tasks", str(data / "task.yaml")]


def text_run(tmp: Path, rows: Sequence[Any] | bytes, kind: str = "story") -> list[str]:
    return [*task(tmp, rows, kind), "--model", HASH, "--conditions", "t2t"]


def yaml_run(tmp: Path, text: str) -> list[str]:
    return [*task(tmp, yaml=text), "--model", HASH, "--conditions", "t2t"]


def yaml_latin1(tmp: Path) -> list[str]:
    args = yaml_run(tmp, GOOD_YAML)
    (tmp / "data" / "task.yaml").write_bytes(b"description: caf\xe9\n" + GOOD_YAML.encode())
    return args


def tone(path: Path, seconds: float = 0.5, rate: int = RATE, channels: int = 1) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    sf.write(str(path), np.repeat(mono[:, None], channels, axis=1), rate, subtype="PCM_16")
    return path


def spoken_task(tmp: Path, bad: Callable[[Path], Any]) -> list[str]:
    """A two-story task whose second story's audio (``wav/2.wav`` and, as every row has its
    own file in the reference layout, ``wav/3.wav``) is made by ``bad``."""
    args = task(tmp)
    for uttid in (0, 1):
        tone(tmp / "data" / "wav" / f"{uttid}.wav")
    for uttid in (2, 3):
        bad(tmp / "data" / "wav" / f"{uttid}.wav")
    return args


def spoken(tmp: Path, bad: Callable[[Path], Any]) -> list[str]:
    return [*spoken_task(tmp, bad), "--model", LISTEN, "--conditions", "s2t"]


def two_hour_wav(path: Path, rate: int = 8000) -> None:
    """A valid PCM WAV header for 2 h of audio over a sparse file of zeros (no 100 MB write)."""
    size = 2 * 3600 * rate * 2
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    header = b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + fmt + b"data"
    with open(path, "wb") as handle:
        handle.write(header + struct.pack("<I", size))
        handle.truncate(44 + size)


def nan_wav(path: Path) -> None:
    samples = np.full(RATE // 2, 0.1, dtype=np.float32)
    samples[100] = np.nan
    sf.write(str(path), samples, RATE, subtype="FLOAT")


def symlink_out(path: Path) -> None:
    outside = path.parents[2] / "elsewhere"
    outside.mkdir(exist_ok=True)
    path.symlink_to(tone(outside / "secret.wav"))


def hf_run(tmp: Path, *model_args: str, tasks: str = "sample_story_en") -> list[str]:
    args = ",".join([f"pretrained={tmp / 'gpt2'}", "dtype=float32", *model_args])
    return ["--model", "hf", "--model-args", args, "--tasks", tasks, "--conditions", "t2t"]


def hf_broken(change: Callable[[Path], Any]) -> Callable[[Path], list[str]]:
    """A maker: apply ``change`` to the copied GPT-2 folder, then run it."""

    def make(tmp: Path) -> list[str]:
        change(tmp / "gpt2")
        return hf_run(tmp)

    return make


def edit_json(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def pickle_only(tmp: Path) -> list[str]:
    import torch
    from safetensors.torch import load_file

    weights = tmp / "gpt2" / "model.safetensors"
    torch.save(load_file(str(weights)), tmp / "gpt2" / "pytorch_model.bin")
    weights.unlink()
    return hf_run(tmp)


def nan_weights(tmp: Path) -> list[str]:
    from safetensors.torch import load_file, save_file

    weights = tmp / "gpt2" / "model.safetensors"
    state = load_file(str(weights))
    save_file({k: v.fill_(float("nan")) for k, v in state.items()}, str(weights))
    return [*hf_run(tmp), "--limit", "2"]


def zero_token_task(tmp: Path) -> list[str]:
    """A zh story whose right ending is the last letter of a word the BPE merged whole."""
    from transformers import AutoTokenizer

    vocab = AutoTokenizer.from_pretrained(str(tmp / "gpt2")).get_vocab()
    word = next(w for w in sorted(vocab) if w.isascii() and w.isalpha() and len(w) >= 3)
    rows = [{"uttid": 0, "first": word[:-1], "last": word[-1]}]
    rows.append({"uttid": 1, "first": word[:-1], "last": "好"})
    task(tmp, rows, yaml="name: merge_t\nkind: story\nlanguage: zh\njsonl: bad.jsonl\n")
    return hf_run(tmp, tasks=str(tmp / "data" / "task.yaml"))


# -- results-directory faults ---------------------------------------------------------------------
class DiskFull:
    """A text file on a disk with ``room`` characters left, failing as a buffered file does.

    ``flush`` writes what fits and raises ENOSPC; the rest stays pending, so
    every later flush -- and ``close`` -- raises again.
    """

    def __init__(self, handle: Any, room: int):
        self.handle, self.room, self.pending = handle, room, ""

    def write(self, text: str) -> int:
        self.pending += text
        return len(text)

    def flush(self) -> None:
        part, self.pending = self.pending[: self.room], self.pending[self.room :]
        self.handle.write(part)
        self.handle.flush()
        self.room -= len(part)
        if self.pending:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fileno(self) -> int:
        return self.handle.fileno()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.handle.close()


def store_disk_full(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    line = len((tmp / "out" / STORE_NAME).read_text().splitlines()[0])

    def opener(file: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
        handle = open(file, mode, *args, **kw)  # noqa: SIM115
        return DiskFull(handle, line * 3 // 2) if Path(file).name == STORE_NAME else handle

    mp.setattr(store_module, "open", opener, raising=False)


def results_disk_full(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """results.json's temp file is /dev/full: the kernel's own 'No space left on device'."""

    class DevFull:
        @staticmethod
        def mkstemp(prefix: str, suffix: str, dir: Path) -> tuple[int, str]:
            return os.open("/dev/full", os.O_WRONLY), str(Path(dir) / f"{prefix}x{suffix}")

    mp.setattr(io_module, "tempfile", DevFull)


def read_only_out(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """As on a read-only mount (EROFS): simulated, because root ignores permission bits."""

    def opener(file: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
        if Path(file).parent == tmp / "out" and set(mode) & set("wax+"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(file))
        return open(file, mode, *args, **kw)  # noqa: SIM115

    mp.setattr(store_module, "open", opener, raising=False)


def hold_lock(mp: pytest.MonkeyPatch, tmp: Path) -> ScoreStore:
    return ScoreStore(tmp / "out")


def damage_line_2(tmp: Path) -> list[str]:
    store = tmp / "out" / STORE_NAME
    lines = store.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"gold": 0', '"gold": 1')
    store.write_text("".join(lines))
    return ["--model", HASH, "--tasks", "sample_story_en", "--conditions", "t2t"]


def output_is_a_file(tmp: Path) -> list[str]:
    (tmp / "out.txt").write_text("notes")
    return ["--model", HASH, "--tasks", "sample_story_en", "--output-path", str(tmp / "out.txt")]


# -- the catalogue -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One malformed input: how to make it, what its error line must name, and any fault."""

    make: Callable[[Path], list[str]]
    expect: tuple[str, ...]
    fault: Callable[[pytest.MonkeyPatch, Path], Any] | None = None
    output: bool = True
    model: str = ""  # a tiny model copied to tmp/<model> first: gpt2 or qwen
    owner_fix: str = ""  # one line, no traceback, but the advice awaits a fix in this file


def _rows(change: Callable[[list[dict[str, Any]]], Any]) -> list[dict[str, Any]]:
    rows = story_rows()
    change(rows)
    return rows


SAMPLE_T2T = ["--model", HASH, "--tasks", "sample_story_en", "--conditions", "t2t"]
GOOD_YAML = "kind: story\nlanguage: en\njsonl: bad.jsonl\n"
BAD = "bad.jsonl"
WAV2 = "wav/2.wav"

CASES: dict[str, Case] = {
    # command line
    "unknown_task": Case(lambda t: [*SAMPLE_T2T[:2], "--tasks", "nosuch"], ("unknown task",)),
    "unknown_model": Case(lambda t: ["--model", "nosuch"], ("unknown model 'nosuch'",)),
    "model_args_malformed": Case(lambda t: [*SAMPLE_T2T, "--model-args", "salt"], ("'salt'",)),
    "plugin_not_importable": Case(lambda t: ["--model", "nosuch_mod:X"], ("nosuch_mod",)),
    "unknown_condition": Case(lambda t: [*SAMPLE_T2T[:4], "--conditions", "x2y"], ("x2y",)),
    "limit_not_a_number": Case(lambda t: [*SAMPLE_T2T, "--limit", "ten"], ("--limit", "ten")),
    "batch_size_zero": Case(lambda t: [*SAMPLE_T2T, "--batch-size", "0"], ("--batch-size",)),
    "long_audio_policy": Case(lambda t: [*SAMPLE_T2T, "--long-audio", "cut"], ("--long-audio",)),
    "long_context_policy": Case(
        lambda t: [*SAMPLE_T2T, "--long-context", "cut"], ("--long-context",)
    ),
    "seed_negative": Case(lambda t: [*SAMPLE_T2T, "--seed", "-1"], ("--seed",)),
    "log_samples_no_output": Case(
        lambda t: [*SAMPLE_T2T, "--log-samples"], ("--output-path",), output=False
    ),
    # task YAML
    "yaml_missing": Case(lambda t: [*SAMPLE_T2T[:2], "--tasks", "no.yaml"], ("no.yaml",)),
    "yaml_syntax": Case(lambda t: yaml_run(t, "kind: [story\n"), ("task.yaml", "invalid YAML")),
    "yaml_python_tag": Case(
        lambda t: yaml_run(t, "kind: !!python/object/apply:os.system ['touch pwned']\n"),
        ("task.yaml", "invalid YAML"),
    ),
    "yaml_not_mapping": Case(lambda t: yaml_run(t, "- story\n"), ("task.yaml", "mapping")),
    "yaml_missing_key": Case(lambda t: yaml_run(t, "kind: story\n"), ("task.yaml", "'language'")),
    "yaml_bad_kind": Case(
        lambda t: yaml_run(t, GOOD_YAML.replace("story", "essay")), ("task.yaml", "'essay'")
    ),
    "yaml_bad_language": Case(
        lambda t: yaml_run(t, GOOD_YAML.replace("en", "fr")), ("task.yaml", "'fr'")
    ),
    "yaml_not_utf8": Case(yaml_latin1, ("task.yaml", "UTF-8")),
    # dataset text
    "jsonl_missing": Case(
        lambda t: yaml_run(t, GOOD_YAML.replace(BAD, "gone.jsonl")), ("gone.jsonl", "not found")
    ),
    "jsonl_empty": Case(lambda t: text_run(t, b""), (BAD, "no rows")),
    "jsonl_half_downloaded": Case(
        lambda t: text_run(t, jsonl(story_rows())[:-20]), (f"{BAD}:4", "invalid JSON")
    ),
    "invalid_utf8": Case(
        lambda t: text_run(t, jsonl(story_rows()).replace(b"Story 1", b"St\xffry")),
        (f"{BAD}:3", "UTF-8"),
    ),
    "line_not_object": Case(lambda t: text_run(t, b"[1, 2]\n"), (f"{BAD}:1", "not a JSON object")),
    "whitespace_text": Case(
        lambda t: text_run(t, _rows(lambda r: r[2].update(last=" \t "))), (f"{BAD}:3", "empty")
    ),
    "missing_field": Case(
        lambda t: text_run(t, _rows(lambda r: r[1].pop("last"))), (f"{BAD}:2", "'last'")
    ),
    "number_not_text": Case(
        lambda t: text_run(t, _rows(lambda r: r[0].update(first=7))), (f"{BAD}:1", "string")
    ),
    "uttid_not_integer": Case(
        lambda t: text_run(t, _rows(lambda r: r[0].update(uttid="a0"))), (f"{BAD}:1", "'a0'")
    ),
    "uttid_float": Case(
        lambda t: text_run(t, _rows(lambda r: r[1].update(uttid=1.5))), (f"{BAD}:2", "1.5")
    ),
    "uttid_duplicate": Case(
        lambda t: text_run(t, _rows(lambda r: r[3].update(uttid=2))), (f"{BAD}:4", "duplicate")
    ),
    "odd_story_rows": Case(
        lambda t: text_run(t, story_rows()[:3]), (f"{BAD}:3", "odd number of story rows")
    ),
    "pairs_split_across_files": Case(
        lambda t: text_run(t, [*story_rows(3)[1:5]]), (f"{BAD}:2", "different context")
    ),
    "answer_outside_a_d": Case(
        lambda t: text_run(t, [{**choice_rows()[0], "answer": "E"}], "choice"),
        (f"{BAD}:1", "'E'"),
    ),
    "answer_missing": Case(lambda t: text_run(t, choice_rows(), "choice"), (f"{BAD}:1", "answer")),
    # dataset audio (S2T through a model that hears)
    "s2t_without_audio_dir": Case(
        lambda t: [*yaml_run(t, GOOD_YAML)[:2], "--model", LISTEN, "--conditions", "s2t"],
        ("no context audio", "audio_dir"),
    ),
    "audio_missing": Case(lambda t: spoken(t, lambda p: None), (WAV2, "not found")),
    "audio_zero_bytes": Case(lambda t: spoken(t, lambda p: p.write_bytes(b"")), (WAV2, "empty")),
    "audio_corrupt_header": Case(
        lambda t: spoken(t, lambda p: p.write_bytes(tone(p).read_bytes()[:30])),
        (WAV2, "not a readable audio file"),
    ),
    "audio_not_wav": Case(
        lambda t: spoken(t, lambda p: p.write_text("<html>404 Not Found</html>")),
        (WAV2, "not a readable audio file"),
    ),
    "audio_no_samples": Case(
        lambda t: spoken(t, lambda p: sf.write(str(p), np.zeros(0), RATE)), (WAV2, "no samples")
    ),
    "audio_nan_samples": Case(lambda t: spoken(t, nan_wav), (WAV2, "NaN")),
    "audio_two_hours": Case(lambda t: spoken(t, two_hour_wav), (WAV2, "7200.0 s", "--long-audio")),
    "audio_two_hours_hf_audio": Case(
        lambda t: [
            *spoken_task(t, two_hour_wav),
            "--model",
            "hf-audio",
            "--model-args",
            f"pretrained={t / 'qwen'},dtype=float32",
            "--conditions",
            "s2t",
        ],
        (WAV2, "7200.0 s", "30 s window", "--long-audio"),
        model="qwen",
    ),
    "audio_is_a_directory": Case(lambda t: spoken(t, Path.mkdir), (WAV2, "is a directory")),
    "audio_symlink_out": Case(lambda t: spoken(t, symlink_out), (WAV2, "leaves its dataset")),
    # model directories
    "hf_dir_missing": Case(lambda t: hf_run(t / "nosuch"), ("nosuch",)),
    "hf_no_weights": Case(
        hf_broken(lambda d: (d / "model.safetensors").unlink()),
        ("gpt2", "no weight files"),
        model="gpt2",
    ),
    "hf_half_downloaded_weights": Case(
        hf_broken(lambda d: os.truncate(d / "model.safetensors", 5000)),
        ("cannot read the weights", "incomplete", "download it again"),
        model="gpt2",
    ),
    "hf_config_not_json": Case(
        hf_broken(lambda d: (d / "config.json").write_text("{oops")),
        ("config.json",),
        model="gpt2",
    ),
    "hf_pickle_only": Case(pickle_only, ("gpt2", "--allow-pickle"), model="gpt2"),
    "hf_remote_code": Case(
        hf_broken(lambda d: edit_json(d / "config.json", lambda c: c.update(auto_map={"A": "B"}))),
        ("gpt2", "--trust-remote-code"),
        model="gpt2",
    ),
    "hf_nan_logits": Case(nan_weights, ("non-finite", "item 0"), model="gpt2"),
    "hf_zero_token_continuation": Case(
        zero_token_task, ("merge_t", "continuation 0"), model="gpt2"
    ),
    # models that misbehave
    "model_inf_logprob": Case(lambda t: faulty("infinite"), ("non-finite", "item 6")),
    "model_too_few_scores": Case(lambda t: faulty("short"), ("returned 1 scores", "item 6")),
    "model_drops_a_request": Case(lambda t: faulty("drop"), ("never scored", "sample_story_en")),
    # results directories
    "output_is_a_file": Case(output_is_a_file, ("out.txt", "is a file"), output=False),
    "output_read_only": Case(
        lambda t: SAMPLE_T2T, ("out", "Read-only file system"), fault=read_only_out
    ),
    "output_locked": Case(lambda t: SAMPLE_T2T, ("another s2sbench run",), fault=hold_lock),
    "store_damaged_line": Case(damage_line_2, (f"{STORE_NAME}:2", "damaged record")),
    "store_disk_full": Case(
        lambda t: [*SAMPLE_T2T, "--limit", "8"],
        (STORE_NAME, "No space left on device"),
        fault=store_disk_full,
    ),
    "results_disk_full": Case(
        lambda t: [*SAMPLE_T2T, "--limit", "3"],
        ("results.json", "No space left on device"),
        fault=results_disk_full,
    ),
}


# -- the runner ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output directory holding a finished earlier run (3 stories, T2T)."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    assert main([*SAMPLE_T2T, "--limit", "3", "--output-path", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import make_gpt2

    return make_gpt2(tmp_path_factory.mktemp("gpt2"))


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_audio_models import make_qwen2_audio

    return make_qwen2_audio(tmp_path_factory.mktemp("qwen"))


def snapshot(root: Path) -> dict[str, bytes | int]:
    """Every file under ``root`` (big ones by size): what a failed run must leave alone."""
    files: dict[str, bytes | int] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != LOCK_NAME:
            size = path.stat().st_size
            files[str(path.relative_to(root))] = size if size > 1 << 20 else path.read_bytes()
    return files


def uses_hf_adapter(args: list[str]) -> bool:
    """Whether the run builds a transformers adapter (``hf``, ``hf-audio``...)."""
    return any(a == "--model" and b.startswith("hf") for a, b in zip(args, args[1:]))


def run_cli(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse errors leave through parser.exit
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_clear_line(
    name: str,
    tmp_path: Path,
    earlier: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    case = CASES[name]
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    if case.model:
        pytest.importorskip("transformers")  # the hf extra builds the tiny model
        shutil.copytree(request.getfixturevalue(f"{case.model}_dir"), tmp_path / case.model)
    args = case.make(tmp_path)
    if uses_hf_adapter(args):
        pytest.importorskip("transformers")  # the hf extra
    keep = case.fault(monkeypatch, tmp_path) if case.fault else None
    before = snapshot(tmp_path)
    extra = ["--output-path", str(out)] if case.output else []
    code, err = run_cli(["run", *args, *extra, "--no-progress"], capsys)
    monkeypatch.undo()
    del keep

    assert code == (1 if "internal error" in err and case.owner_fix else 2), err
    assert len(err.splitlines()) == 1, err
    line = err.strip()
    assert line.startswith("s2sbench") and "Traceback" not in err
    assert " -- " in line or "--help" in line or case.owner_fix, f"no advice in: {line}"
    assert "internal error" not in err or case.owner_fix
    for text in case.expect:
        assert text in line, f"{text!r} not in: {line}"
    after = snapshot(tmp_path)
    store = f"out/{STORE_NAME}"
    assert after[store][: len(before[store])] == before[store]  # type: ignore[index]
    assert {k: v for k, v in after.items() if k != store} == {
        k: v for k, v in before.items() if k != store
    }
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_disk_full_keeps_finished_scores_and_resumes(
    tmp_path: Path, earlier: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """After ENOSPC mid-line the torn line is dropped on resume and the run completes."""
    out = shutil.copytree(earlier, tmp_path / "out")
    store_disk_full(monkeypatch, tmp_path)
    argv = ["run", *SAMPLE_T2T, "--limit", "8", "--output-path", str(out), "--no-progress"]
    assert run_cli(argv, capsys)[0] == 2
    monkeypatch.undo()
    assert not (out / STORE_NAME).read_bytes().endswith(b"\n")  # the torn line is there
    code, err = run_cli(argv, capsys)  # --limit 8 over the earlier --limit 3: kept beside
    assert code == 0 and err.startswith("s2sbench: earlier results") and len(err.splitlines()) == 1
    fresh = tmp_path / "fresh"
    assert run_cli([*argv[:-2], str(fresh), "--no-progress"], capsys) == (0, "")
    assert (out / STORE_NAME).read_bytes() == (fresh / STORE_NAME).read_bytes()
    assert (
        json.loads((out / "results.json").read_text())["results"]
        == json.loads((fresh / "results.json").read_text())["results"]
    )


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    args = ["--debug", "run", *text_run(tmp_path, story_rows()[:3]), "--no-progress"]
    with pytest.raises(Exception, match="odd number of story rows"):
        main(args)


def test_real_entry_point_one_line_and_debug_traceback(tmp_path: Path) -> None:
    """``python -m s2sbench`` as a user runs it: one line and exit 2; ``--debug``: the traceback."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    args = [*text_run(tmp_path, story_rows()[:3]), "--no-progress"]
    for debug in ([], ["--debug"]):
        done = subprocess.run(
            [sys.executable, "-m", "s2sbench", *debug, "run", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode != 0 and "odd number of story rows" in done.stderr
        assert ("Traceback" in done.stderr) == bool(debug)
        if not debug:
            assert done.returncode == 2 and len(done.stderr.splitlines()) == 1


# -- handled, not refused -----------------------------------------------------------------------
def samples_of(tmp: Path, argv: list[str], name: str, capsys: pytest.CaptureFixture) -> bytes:
    out = tmp / name
    code, err = run_cli(
        ["run", *argv, "--output-path", str(out), "--log-samples", "--no-progress"], capsys
    )
    assert (code, err) == (0, "")
    (path,) = out.glob("samples_*.jsonl")
    return path.read_bytes()


def test_bom_and_crlf_are_read_as_the_clean_file(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    clean = samples_of(tmp_path, text_run(tmp_path, story_rows()), "clean", capsys)
    messy = b"\xef\xbb\xbf" + jsonl(story_rows()).replace(b"\n", b"\r\n")
    assert samples_of(tmp_path, text_run(tmp_path, messy), "messy", capsys) == clean
    assert b"\\r" not in clean and "Right end 1." in clean.decode()


def test_other_sample_rates_are_resampled_and_channels_mixed_down(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """8 kHz audio is resampled to the model's 16 kHz; 8 identical channels mix to the mono file."""
    args = spoken(tmp_path, tone)
    wav = tmp_path / "data" / "wav"
    mono = [json.loads(r) for r in samples_of(tmp_path, args, "mono", capsys).splitlines()]
    for uttid in (0, 1):  # both rows of a story have their own file: change both
        tone(wav / f"{uttid}.wav", seconds=0.5, rate=8000)
    for uttid in (2, 3):
        tone(wav / f"{uttid}.wav", channels=8)
    mixed = [json.loads(r) for r in samples_of(tmp_path, args, "mixed", capsys).splitlines()]
    assert [r["extra"]["n_samples"] for r in mixed] == [RATE // 2] * 4
    assert mixed[2:] == mono[2:]  # the 8-channel story scores exactly as its mono original
    assert sf.info(str(wav / "2.wav")).channels == 8
    results = json.loads((tmp_path / "mixed" / "results.json").read_text())
    assert results["results"]["bad_task"]["s2t"]["n"] == 2 and results["skipped"] == []


def test_two_hours_truncated_decode_only_the_window(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """``--long-audio truncate`` reads the first 30 s of a 2 h file, not the whole of it."""
    args = [*spoken(tmp_path, two_hour_wav), "--long-audio", "truncate"]
    rows = [json.loads(r) for r in samples_of(tmp_path, args, "cut", capsys).splitlines()]
    assert [r["extra"]["n_samples"] for r in rows] == [RATE // 2] * 2 + [30 * RATE] * 2
