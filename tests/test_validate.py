"""``data validate``: each problem is made on purpose and its one-line message checked."""

from __future__ import annotations

import argparse
import json
import re
import shutil

import numpy as np
import pytest
import soundfile as sf
from data_samples import story_csv

from s2sbench.cli.data_cmd import add_data_parser
from s2sbench.data.build import build_dataset
from s2sbench.data.validate import validate_dataset


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("valid")
    out = root / "set"
    build_dataset(story_csv(root, "en"), out, kind="story", lang="en", jobs=1, progress=False)
    return out


@pytest.fixture
def ds(clean, tmp_path):
    """A fresh copy of the clean set to break."""
    return shutil.copytree(clean, tmp_path / "set")


def problems(root) -> list[str]:
    return [str(p) for p in validate_dataset(root)]


def rewrite_rows(root, change) -> None:
    path = root / "data.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = change(rows)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_data_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_clean_set_has_no_problems_and_exit_code_0(clean, capsys):
    assert problems(clean) == []
    assert cli(["data", "validate", str(clean)]) == 0
    assert "no problems" in capsys.readouterr().out


def test_exit_code_2_and_one_line_per_problem(ds, capsys):
    (ds / "audio" / "3.wav").unlink()
    sf.write(str(ds / "audio" / "5.wav"), np.zeros((8000, 2), np.float32), 16000)
    assert cli(["data", "validate", str(ds)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert "audio/3.wav: missing audio file (record uttid 3)" in lines
    assert "audio/5.wav: stereo audio (2 channels), expected mono (record uttid 5)" in lines


def test_missing_wav(ds):
    (ds / "audio" / "2.wav").unlink()
    found = problems(ds)
    assert "audio/2.wav: missing audio file (record uttid 2)" in found
    assert "audio/2.wav: listed in manifest.json but missing" in found
    assert (
        "data.jsonl: text/audio count mismatch: 6 records but 5 context wav files in audio" in found
    )


def test_corrupt_wav(ds):
    (ds / "audio" / "1.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    found = problems(ds)
    assert any(
        p.startswith("audio/1.wav: corrupt audio: cannot decode (")
        and p.endswith("(record uttid 1)")
        for p in found
    )


def test_empty_wav(ds):
    sf.write(str(ds / "audio" / "0.wav"), np.zeros(0, np.float32), 16000, subtype="PCM_16")
    assert "audio/0.wav: empty audio: no samples (record uttid 0)" in problems(ds)


def test_wrong_sample_rate(ds):
    data, _ = sf.read(str(ds / "audio" / "4.wav"))
    sf.write(str(ds / "audio" / "4.wav"), data, 22050, subtype="PCM_16")
    assert (
        "audio/4.wav: wrong sample rate 22050 Hz, expected 16000 Hz (record uttid 4)"
        in problems(ds)
    )
    # Told explicitly, the expected rate wins over the manifest's.
    assert any(
        "audio/0.wav: wrong sample rate 16000 Hz, expected 22050 Hz" in p
        for p in (str(x) for x in validate_dataset(ds, sample_rate=22050))
    )


def test_stereo(ds):
    data, rate = sf.read(str(ds / "audio" / "0.wav"))
    sf.write(str(ds / "audio" / "0.wav"), np.stack([data, data], axis=1), rate, subtype="PCM_16")
    assert "audio/0.wav: stereo audio (2 channels), expected mono (record uttid 0)" in problems(ds)


def test_clipped(ds):
    data, rate = sf.read(str(ds / "audio" / "1.wav"))
    data[1000:1050] = 1.0
    sf.write(str(ds / "audio" / "1.wav"), data, rate, subtype="PCM_16")
    assert "audio/1.wav: clipped audio: 50 samples at full scale (record uttid 1)" in problems(ds)


def test_duration_outlier(ds):
    data, rate = sf.read(str(ds / "audio" / "2.wav"))
    sf.write(
        str(ds / "audio" / "2.wav"),
        np.concatenate([data, np.zeros(len(data) * 9)]),
        rate,
        subtype="PCM_16",
    )
    outliers = [p for p in problems(ds) if "duration outlier" in p]
    assert len(outliers) == 1
    assert outliers[0].startswith("audio/2.wav: duration outlier: ")
    assert re.search(
        r"for 91 characters \(\d+\.\dx the median seconds per character\) "
        r"\(record uttid 2\)$",
        outliers[0],
    )


def test_bad_pair_different_context(ds):
    def change(rows):
        rows[3]["first"] = "A completely different story."
        return rows

    rewrite_rows(ds, change)
    assert (
        "data.jsonl:4: bad pair: uttid 3 has a different context than uttid 2 (record uttid 3)"
    ) in problems(ds)


def test_bad_pair_not_consecutive(ds):
    rewrite_rows(ds, lambda rows: [*rows[:5], {**rows[5], "uttid": 6}])
    assert "data.jsonl:6: bad pair: uttid 6 does not follow 4 (record uttid 6)" in problems(ds)


def test_bad_pair_odd_number_of_rows(ds):
    rewrite_rows(ds, lambda rows: rows[:5])
    assert (
        "data.jsonl:5: bad pair: odd number of story rows (5), uttid 4 has no pair (record uttid 4)"
    ) in problems(ds)


def test_bad_pair_same_ending(ds):
    rewrite_rows(ds, lambda rows: [*rows[:5], {**rows[5], "last": rows[4]["last"]}])
    assert (
        "data.jsonl:6: bad pair: uttids 4 and 5 have the same ending (record uttid 5)"
        in problems(ds)
    )


def test_duplicate_ids(ds):
    rewrite_rows(ds, lambda rows: [*rows, rows[2]])
    assert "data.jsonl:7: duplicate uttid 2 (first on line 3) (record uttid 2)" in problems(ds)


def test_text_audio_count_mismatch(ds):
    shutil.copy(ds / "audio" / "0.wav", ds / "audio" / "6.wav")
    found = problems(ds)
    assert (
        "data.jsonl: text/audio count mismatch: 6 records but 7 context wav files in audio" in found
    )
    assert "audio/6.wav: audio file has no record in data.jsonl (record uttid 6)" in found
    assert "audio/6.wav: not listed in manifest.json" in found


def test_manifest_hash_mismatch(ds):
    data, rate = sf.read(str(ds / "audio" / "5.wav"))
    sf.write(str(ds / "audio" / "5.wav"), data * 0.5, rate, subtype="PCM_16")
    assert problems(ds) == [
        "audio/5.wav: manifest hash mismatch: sha256 differs from manifest.json "
        "(the file changed after the build)"
    ]


def test_invalid_json_line_is_reported_not_raised(ds):
    with open(ds / "data.jsonl", "a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    found = problems(ds)
    assert any(p.startswith("data.jsonl:7: invalid JSON") for p in found)


def test_info_command_prints_counts(clean, capsys):
    assert cli(["data", "info", str(clean)]) == 0
    out = capsys.readouterr().out
    assert "items: 3 (6 continuations)" in out
    assert "audio: 3 distinct spoken contexts in 6 context files, 0 continuation files" in out
    assert "languages: en" in out
