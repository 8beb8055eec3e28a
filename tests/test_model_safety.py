"""Model-side promises of SECURITY.md (issue 14 items 1, 6, 7, 11): no stale scores after a
checkpoint changes, no scoring of weights that do not fit their config, no silent cut of
long text contexts, and a clear line for a ``pretrained=`` that cannot be a checkpoint.

Every case runs the real CLI on a tiny random GPT-2 saved with safetensors.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from tiny_models import make_gpt2  # noqa: E402

import s2sbench.core.file_hashes as file_hashes
from s2sbench.cli.main import main  # noqa: E402
from s2sbench.core.checkpoint_files import weights_fingerprint
from s2sbench.evaluator import evaluate  # noqa: E402
from s2sbench.reports.sweep_series import (
    COMBINED_SUMMARY_NAME,
    SUMMARIES_DIR,
    SUMMARY_NAME,
    parse_reference_line,
    parse_summary,
)

MIB = 1 << 20
T2T = ["--tasks", "sample_story_en", "--conditions", "t2t", "--limit", "3", "--no-progress"]


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wide enough (about 7 MB of weights) that a middle byte lies outside the first and last
    MiB, which is all the old partial fingerprint read."""
    return make_gpt2(tmp_path_factory.mktemp("safety_gpt2"), n_embd=256, n_head=4)


@pytest.fixture
def checkpoint(gpt2_dir: Path, tmp_path: Path) -> Path:
    """A private copy (tests rewrite its weights in place)."""
    return Path(shutil.copytree(gpt2_dir, tmp_path / "ckpt_0_100_model"))


@pytest.fixture
def old_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private hash cache that remembers every file at once, as it does a checkpoint written
    more than ``RACY_SECONDS`` ago: the stat key alone must then notice a rewrite."""
    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(file_hashes, "RACY_SECONDS", -1.0)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err.strip().splitlines()


def hf_args(pretrained: Path | str, extra: str = "") -> list[str]:
    return ["--model", "hf", "--model-args", f"pretrained={pretrained},dtype=float32{extra}"]


def results(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text())


def rewrite_middle_byte(checkpoint: Path, tensor: str = "transformer.h.1.mlp.c_fc.weight") -> None:
    """Scale one float in the middle of ``tensor`` by 4 (an exponent bit), in place, same size."""
    path = checkpoint / "model.safetensors"
    with path.open("r+b") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        begin, end = json.loads(handle.read(header_len))[tensor]["data_offsets"]
        offset = 8 + header_len + begin + (end - begin) // 8 * 4 + 3
        assert MIB <= offset < path.stat().st_size - MIB  # neither head nor tail
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ 0x01]))  # the value x4 or /4


def wait_for_a_new_ctime(path: Path, before: int) -> None:
    """The kernel stamps ctime at its clock tick: make sure the rewrite got a new one."""
    deadline = time.time() + 5
    while path.stat().st_ctime_ns == before and time.time() < deadline:
        time.sleep(0.01)
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))


# -- item 1: stale scores --------------------------------------------------------------------------


@pytest.mark.parametrize("restore_mtime", [False, True], ids=["rewritten", "mtime-restored"])
def test_a_rewritten_tensor_is_rescored_in_the_same_output_folder(
    checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    old_files: None,
    restore_mtime: bool,
) -> None:
    out = tmp_path / "out"
    assert run_cli([*hf_args(checkpoint), *T2T, "--output-path", str(out)], capsys)[0] == 0
    before = results(out)
    weights = checkpoint / "model.safetensors"
    stat = weights.stat()
    time.sleep(0.05)
    rewrite_middle_byte(checkpoint)
    if restore_mtime:  # size, inode and mtime as before: only ctime and the bytes tell
        os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        wait_for_a_new_ctime(weights, stat.st_ctime_ns)
        assert weights.stat().st_mtime_ns == stat.st_mtime_ns
    assert weights.stat().st_size == stat.st_size and weights.stat().st_ino == stat.st_ino
    assert run_cli([*hf_args(checkpoint), *T2T, "--output-path", str(out)], capsys)[0] == 0
    after = results(out)
    assert after["config"]["scored_now"] == before["config"]["scored_now"] > 0
    assert after["config"]["reused_from_store"] == 0
    old, new = before["config"]["model_fingerprint"], after["config"]["model_fingerprint"]
    assert old["weights_sha256"] != new["weights_sha256"]
    fresh = tmp_path / "fresh"
    assert run_cli([*hf_args(checkpoint), *T2T, "--output-path", str(fresh)], capsys)[0] == 0
    assert after["results"] == results(fresh)["results"] != before["results"]


def test_a_sweep_rebuilds_the_summaries_of_a_rewritten_checkpoint(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], old_files: None
) -> None:
    out = tmp_path / "sweep"
    argv = ["sweep", "--checkpoints", str(checkpoint), "--model", "hf", "--model-args",
            "dtype=float32", *T2T, "--output-path", str(out), "--no-plots"]  # fmt: skip
    reference = out / SUMMARIES_DIR / "sample_story_en_t2t" / SUMMARY_NAME

    def summaries() -> tuple[list[tuple[int, float, float, float]], Any]:
        lines = reference.read_text().splitlines()
        combined = parse_summary((out / COMBINED_SUMMARY_NAME).read_text())
        return [parse_reference_line(line) for line in lines], combined

    assert run_cli(argv, capsys)[0] == 0
    first = summaries()
    weights = checkpoint / "model.safetensors"
    stat = weights.stat()
    time.sleep(0.05)
    rewrite_middle_byte(checkpoint)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the hardest case
    wait_for_a_new_ctime(weights, stat.st_ctime_ns)
    assert run_cli(argv, capsys)[0] == 0
    (line,), combined = second = summaries()
    fresh = tmp_path / "fresh"
    assert run_cli([*hf_args(checkpoint), *T2T, "--output-path", str(fresh)], capsys)[0] == 0
    metrics = results(fresh)["results"]["sample_story_en"]["t2t"]
    expected = (100, round(100 * metrics["acc"], 2), round(metrics["mean_right_loss"], 4),
                round(metrics["mean_wrong_loss"], 4))  # fmt: skip
    assert line == expected and combined[("sample_story_en", "t2t")] == [expected]
    assert second != first
    per_checkpoint = results(out / checkpoint.name)["results"]["sample_story_en"]["t2t"]
    assert per_checkpoint == metrics


def test_whole_file_hashes_are_cached_by_stat_and_a_fresh_file_is_hashed_again(
    gpt2_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S2SBENCH_CACHE", str(tmp_path / "cache"))
    reads: list[Path] = []
    real = file_hashes.hash_file
    monkeypatch.setattr(file_hashes, "hash_file", lambda p: reads.append(Path(p)) or real(p))
    copy = Path(shutil.copytree(gpt2_dir, tmp_path / "copy"))
    first = weights_fingerprint(copy)
    assert weights_fingerprint(copy) == first and len(reads) == 2  # racily new: read twice
    monkeypatch.setattr(file_hashes, "RACY_SECONDS", -1.0)  # as if the file were old
    weights_fingerprint(copy)
    assert weights_fingerprint(copy) == first and len(reads) == 3  # then remembered
    rewrite_middle_byte(copy)
    assert weights_fingerprint(copy)["weights_sha256"] != first["weights_sha256"]
    assert len(reads) == 4


# -- item 6: weights that do not match their config ------------------------------------------------


def with_config(checkpoint: Path, **changes: Any) -> Path:
    config = json.loads((checkpoint / "config.json").read_text())
    config.update(changes)
    (checkpoint / "config.json").write_text(json.dumps(config))
    return checkpoint


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"n_layer": 3}, "missing from the checkpoint (e.g. transformer.h.2."),
        ({"n_layer": 1}, "no use for (e.g. transformer.h.1."),
        ({"n_embd": 128}, "of another shape"),
    ],
    ids=["extra-layer", "fewer-layers", "doubled-hidden-size"],
)
def test_weights_that_do_not_fit_the_config_are_one_line(
    checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, int],
    words: str,
) -> None:
    with_config(checkpoint, **changes)
    out = tmp_path / "out"
    code, err = run_cli([*hf_args(checkpoint), *T2T, "--output-path", str(out)], capsys)
    assert code == 2 and len(err) == 1, err
    assert words in err[0] and "config.json" in err[0] and "--allow-weight-mismatch" in err[0]
    assert str(checkpoint) in err[0] and "Traceback" not in err[0]
    assert not (out / "results.json").exists()


def test_a_weight_mismatch_is_scored_only_with_the_flag_never_a_model_arg(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_config(checkpoint, n_layer=3)
    flagged = [*hf_args(checkpoint), *T2T, "--allow-weight-mismatch"]
    assert run_cli([*flagged, "--output-path", str(tmp_path / "a")], capsys)[0] == 0
    code, err = run_cli([*hf_args(checkpoint, ",allow_weight_mismatch=true"), *T2T], capsys)
    assert code == 2 and len(err) == 1 and "--allow-weight-mismatch" in err[0]
    result = evaluate("hf", f"pretrained={checkpoint},dtype=float32", "sample_story_en", "t2t",
                      limit=3, progress=False, allow_weight_mismatch=True)  # fmt: skip
    assert result.to_json()["results"]["sample_story_en"]["t2t"]["n"] == 3


# -- item 7: text contexts longer than the model's window -----------------------------------------


def long_task(tmp_path: Path) -> list[str]:
    """Two stories, the second one far longer than a 64-token window."""
    data = tmp_path / "long"
    data.mkdir()
    rows = []
    for k, first in enumerate(["A short story.", "A long story. " + "It went on. " * 60]):
        rows.append({"uttid": 2 * k, "first": first, "last": "The end."})
        rows.append({"uttid": 2 * k + 1, "first": first, "last": "A cat flew."})
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    (data / "data.jsonl").write_text(lines)
    spec = "name: long_t\nkind: story\nlanguage: en\njsonl: data.jsonl\n"
    (data / "task.yaml").write_text(spec)
    return ["--tasks", str(data / "task.yaml"), "--conditions", "t2t", "--no-progress"]


def test_a_context_longer_than_the_window_is_refused_naming_task_item_and_lengths(
    gpt2_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = make_gpt2(tmp_path / "small", n_positions=64)
    code, err = run_cli([*hf_args(small), *long_task(tmp_path)], capsys)
    assert code == 2 and len(err) == 1, err
    assert "task long_t, item 2" in err[0] and "window of 64 tokens" in err[0]
    assert "--long-context truncate" in err[0]


def test_truncate_cuts_from_the_left_and_counts_per_task_and_condition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = make_gpt2(tmp_path / "small", n_positions=64)
    out = tmp_path / "out"
    argv = [*hf_args(small), *long_task(tmp_path), "--output-path", str(out)]
    assert run_cli([*argv, "--long-context", "truncate"], capsys)[0] == 0
    data = results(out)
    assert data["results"]["long_t"]["t2t"]["truncated_contexts"] == 1
    assert data["config"]["long_context"] == "truncate"
    assert data["config"]["model_fingerprint"]["long_context"] == "truncate"
    api = evaluate("hf", f"pretrained={small},dtype=float32", str(tmp_path / "long" / "task.yaml"),
                   "t2t", progress=False, long_context="truncate")  # fmt: skip
    assert api.to_json()["results"] == data["results"]
    # the default never reuses a truncated score: it refuses again in the same folder
    code, err = run_cli(argv, capsys)
    assert code == 2 and "window of 64 tokens" in err[0]


def test_the_long_context_setting_enters_the_identity_only_when_it_can_change_scores(
    gpt2_dir: Path,
) -> None:
    from s2sbench.models.hf_causal import HFCausalLM

    default = HFCausalLM(str(gpt2_dir)).fingerprint()
    assert HFCausalLM(str(gpt2_dir), long_context="error").fingerprint() == default
    assert "long_context" not in default
    assert HFCausalLM(str(gpt2_dir), long_context="truncate").fingerprint() != default


# -- item 11: pretrained= that cannot name a checkpoint -----------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("{ckpt}/config.json", "is a file, not a checkpoint directory"),
        ("5", "pretrained=5 is a int, not a checkpoint"),
        ("{ckpt}/model.gguf", "is a .gguf file"),
    ],
    ids=["file", "integer", "gguf-for-hf-audio"],
)
def test_a_pretrained_that_is_a_file_or_a_number_is_one_line(
    checkpoint: Path, capsys: pytest.CaptureFixture[str], value: str, words: str
) -> None:
    (checkpoint / "model.gguf").write_bytes(b"GGUF")
    model = "hf-audio" if value.endswith(".gguf") else "hf"
    argv = ["--model", model, "--model-args", f"pretrained={value.format(ckpt=checkpoint)}", *T2T]
    code, err = run_cli(argv, capsys)
    assert code == 2 and len(err) == 1, err
    assert words in err[0] and "Traceback" not in err[0]
