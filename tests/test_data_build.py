"""The dataset builder: en + zh sets from CSV with espeak-ng, evaluated, resumed, refused.

The sets are three items each so the whole file runs in seconds.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from data_samples import cmmlu_csv, story_csv

import s2sbench
from s2sbench.core.errors import DataError
from s2sbench.data.build import build_dataset
from s2sbench.data.info import dataset_info
from s2sbench.data.layout import attach_continuation_audio, locate_dataset
from s2sbench.data.reference import read_items
from s2sbench.data.validate import validate_dataset


def _build(src: Path, out: Path, **kw):
    kw.setdefault("kind", "story")
    kw.setdefault("lang", "en")
    return build_dataset(src, out, name=kw.pop("name", "set"), progress=False, **kw)


@pytest.fixture(scope="module")
def en_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("en")
    result = _build(story_csv(root, "en"), root / "out", jobs=2)
    return root, result


def test_en_set_layout_manifest_and_clean_validation(en_set):
    root, result = en_set
    out = root / "out"
    assert sorted(p.name for p in (out / "audio").iterdir()) == [f"{i}.wav" for i in range(6)]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == result.manifest
    assert manifest["counts"] == {
        "rows": 6,
        "items": 3,
        "context_wavs": 6,
        "continuation_wavs": 0,
        "subjects": {},
    }
    assert manifest["build"]["tts"]["backend"] == "espeak"
    assert manifest["build"]["tts"]["version"]
    assert set(manifest["files"]) == {
        "data.jsonl",
        "task.yaml",
        *(f"audio/{i}.wav" for i in range(6)),
    }
    assert manifest["durations"]["context"]["total_s"] > 6 * 1.0
    assert not (out / ".build.json").exists()
    assert validate_dataset(out) == []


def test_audio_is_mono_16k_pcm16_and_loudness_normalised(en_set):
    out = en_set[0] / "out"
    for i in range(6):
        info = sf.info(str(out / "audio" / f"{i}.wav"))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        data, _ = sf.read(str(out / "audio" / f"{i}.wav"), dtype="float64")
        rms_db = 20 * np.log10(np.sqrt(np.mean(data**2)))
        peak_db = 20 * np.log10(np.max(np.abs(data)))
        assert peak_db <= -0.99
        assert -20.5 < rms_db < -19.5 or peak_db > -1.01  # on target unless the peak limits it


def test_en_set_evaluates_with_the_ngram_model(en_set):
    out = en_set[0] / "out"
    result = s2sbench.evaluate(
        model="ngram", tasks=[str(out / "task.yaml")], conditions=["t2t"], progress=False
    )
    cell = result.results["set"]["t2t"]
    assert cell.n == 3
    assert cell.acc is not None and 0.0 <= cell.acc <= 1.0
    records = result.records("set", "t2t")
    assert len(records) == 3 and all(len(r.scores) == 2 for r in records)


@pytest.mark.skipif(
    importlib.util.find_spec("s2sbench.models.sphinx_cascade") is None,
    reason="the sphinx cascade adapter is not in this checkout",
)
def test_en_set_evaluates_s2t_with_the_sphinx_cascade(en_set):
    out = en_set[0] / "out"
    result = s2sbench.evaluate(
        model="sphinx", tasks=[str(out / "task.yaml")], conditions=["t2t", "s2t"], progress=False
    )
    assert result.results["set"]["s2t"].n == 3
    assert result.results["set"]["t2t"].n == 3


def test_zh_story_and_cmmlu_sets_build_and_validate(tmp_path):
    story = _build(story_csv(tmp_path, "zh"), tmp_path / "story", lang="zh", jobs=1)
    assert story.manifest["counts"]["items"] == 3
    assert validate_dataset(tmp_path / "story") == []
    choice = _build(cmmlu_csv(tmp_path), tmp_path / "cmmlu", kind="choice", lang="zh", jobs=1)
    assert choice.manifest["counts"]["subjects"] == {"geography": 3}
    assert validate_dataset(tmp_path / "cmmlu") == []
    info = dataset_info(tmp_path / "cmmlu")
    assert (info["items"], info["languages"], info["subjects"]) == (3, ["zh"], {"geography": 3})
    spec = s2sbench.tasks.registry.load_task_yaml(tmp_path / "cmmlu" / "task.yaml")
    assert [i.gold for i in spec.load().items] == [0, 1, 2]


def test_speak_all_renders_every_continuation(tmp_path):
    result = _build(
        cmmlu_csv(tmp_path), tmp_path / "out", kind="choice", lang="zh", speak="all", jobs=1
    )
    assert result.manifest["counts"]["continuation_wavs"] == 12
    layout = locate_dataset(tmp_path / "out")
    items = read_items("choice", layout.jsonl, "zh", layout.audio_dir)
    items = attach_continuation_audio(items, layout.audio_dir)
    assert items[1].continuation_audio == tuple(layout.audio_dir / f"1_c{k}.wav" for k in range(4))
    assert validate_dataset(tmp_path / "out") == []
    (layout.audio_dir / "2_c3.wav").unlink()
    assert attach_continuation_audio(items, layout.audio_dir)[2].continuation_audio is None
    assert [str(p) for p in validate_dataset(tmp_path / "out")][0] == (
        "audio/2_c3.wav: missing audio file (record item 2 continuation 3)"
    )


def test_rebuild_is_deterministic_and_reuses_files(en_set, tmp_path):
    root, first = en_set
    again = _build(story_csv(tmp_path, "en"), tmp_path / "out", jobs=1)
    assert again.manifest == first.manifest  # one process vs two: same bytes
    resumed = _build(story_csv(tmp_path, "en"), tmp_path / "out", jobs=1)
    assert (resumed.synthesized, resumed.reused) == (0, 6)


KILLER = """
import os, signal, sys
from s2sbench.data.build import build_dataset

written = []

def stop_after_three(path):
    written.append(path)
    if len(written) == 3:
        os.kill(os.getpid(), signal.SIGKILL)

if __name__ == "__main__":
    build_dataset(sys.argv[1], sys.argv[2], kind="story", lang="en", name="set", jobs=1,
                  progress=False, on_file=stop_after_three)
"""


def test_killed_build_resumes_to_the_same_manifest(en_set, tmp_path):
    src, out = story_csv(tmp_path, "en"), tmp_path / "out"
    script = tmp_path / "killer.py"
    script.write_text(textwrap.dedent(KILLER), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), str(src), str(out)], timeout=120)
    assert proc.returncode == -9  # really killed mid-build
    assert len(list((out / "audio").glob("*.wav"))) == 3
    assert not (out / "manifest.json").exists()
    # What a kill during a write leaves behind: a temporary file, never a final one.
    (out / "audio" / ".4.wav.part-4242").write_bytes(b"RIFF\x00")
    resumed = _build(src, out, jobs=1)
    assert resumed.reused == 3 and resumed.synthesized == 3
    assert not list((out / "audio").glob(".*"))
    assert (out / "manifest.json").read_bytes() == (
        en_set[0] / "out" / "manifest.json"
    ).read_bytes()


def test_refuses_to_overwrite_a_different_dataset(en_set, tmp_path):
    out = tmp_path / "out"
    _build(story_csv(tmp_path, "en"), out, jobs=1)
    with pytest.raises(DataError, match=r"different dataset \(differs in: language\)"):
        _build(story_csv(tmp_path, "en"), out, lang="zh", jobs=1)
    with pytest.raises(DataError, match=r"differs in: language, source, tts\)"):
        _build(story_csv(tmp_path, "zh"), out, lang="zh", jobs=1, voice="cmn")
    replaced = _build(story_csv(tmp_path, "zh"), out, lang="zh", jobs=1, overwrite=True)
    assert replaced.manifest["language"] == "zh" and validate_dataset(out) == []
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DataError, match="no s2sbench manifest"):
        _build(story_csv(tmp_path, "en"), foreign, jobs=1)


def _tiny_vits(folder: Path) -> Path:
    """A random VITS of ~20k parameters with a character tokenizer, saved for from_pretrained."""
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    vocab = {c: i for i, c in enumerate(" abcdefghijklmnopqrstuvwxyz.,'")}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = VitsTokenizer(
        str(folder / "vocab.json"), add_blank=True, normalize=True, phonemize=False
    )
    config = VitsConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=32,
        flow_size=16,
        spectrogram_bins=17,
        upsample_initial_channel=16,
        upsample_rates=[4, 4],
        upsample_kernel_sizes=[8, 8],
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3]],
        prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1,
        posterior_encoder_num_wavenet_layers=1,
        duration_predictor_num_flows=1,
        duration_predictor_filter_channels=16,
        use_stochastic_duration_prediction=False,
        sampling_rate=16000,
    )
    torch.manual_seed(0)
    VitsModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_hf_vits_backend_builds_a_deterministic_set(tmp_path):
    pytest.importorskip("transformers")  # the hf extra
    from s2sbench.data.tts import get_tts

    model = _tiny_vits(tmp_path)
    tts = get_tts("hf", str(model))
    a, rate = tts.synthesize("the cat sat.", "en")
    tts.synthesize("a different sentence first.", "en")
    b, _ = tts.synthesize("the cat sat.", "en")
    assert rate == 16000 and a.dtype == np.float32 and a.size > 0
    assert np.array_equal(a, b)  # no dependence on what was spoken before
    assert tts.info()["backend"] == "hf" and tts.info()["version"].startswith("transformers-")
    result = _build(story_csv(tmp_path, "en"), tmp_path / "out", tts="hf", voice=str(model), jobs=1)
    assert result.manifest["build"]["tts"]["voice"] == str(model)
    assert validate_dataset(tmp_path / "out") == []


def test_bad_jsonl_source_is_reported_with_its_own_lines_before_any_output(tmp_path):
    src = tmp_path / "src.jsonl"
    rows = [{"uttid": 0, "first": "c", "last": "right"}, {"uttid": 1, "first": "x", "last": "w"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(DataError, match=r"src\.jsonl:2: bad pair: uttid 1 has a different context"):
        _build(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_build_prints_a_summary(tmp_path, capsys):
    import argparse

    from s2sbench.cli.data_cmd import add_data_parser

    parser = argparse.ArgumentParser()
    add_data_parser(parser.add_subparsers())
    argv = [
        "data",
        "build",
        str(cmmlu_csv(tmp_path)),
        "--kind",
        "choice",
        "--lang",
        "zh",
        "--out",
        str(tmp_path / "out"),
        "--jobs",
        "1",
        "--no-progress",
        "--loudness",
        "-26",
    ]
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip() == (
        f"built {tmp_path / 'out'}: 3 items, 3 context + 0 continuation wavs (3 written, 0 kept)"
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build"]["loudness_dbfs"] == -26.0
    data, _ = sf.read(str(tmp_path / "out" / "audio" / "0.wav"), dtype="float64")
    assert 20 * np.log10(np.sqrt(np.mean(data**2))) == pytest.approx(-26.0, abs=0.3)
