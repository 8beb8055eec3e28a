"""``data export`` for Hugging Face ``datasets``: typed columns, and a README whose code runs.

The exported README's Python blocks are executed as written (THIS_DIR replaced by the
export folder): ``load_dataset``, then ``Audio(decode=False)`` and soundfile on the WAV
bytes, which must give back exactly the samples of the dataset's own files. No torchcodec
is needed (it does not load beside this machine's CPU-only torch).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import soundfile as sf

from s2sbench.cli.main import main

pytest.importorskip("pyarrow")

STORIES = [
    {"uttid": 0, "first": "Tom had a dog. It was old.", "last": "He loved it."},
    {"uttid": 1, "first": "Tom had a dog. It was old.", "last": "He ate the moon."},
]


def build_and_export(tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    source = tmp_path / "stories.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in STORIES), encoding="utf-8")
    root, out = tmp_path / "set", tmp_path / "hf"
    build = ["data", "build", str(source), "--kind", "story", "--lang", "en", "--out", str(root)]
    assert main([*build, "--jobs", "1", "--no-progress", *extra]) == 0
    assert main(["data", "export", str(root), "--out", str(out)]) == 0
    return root, out


def test_empty_continuation_audio_is_a_typed_list_not_null(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _, out = build_and_export(tmp_path)  # contexts only: every continuation list is empty
    table = pq.read_table(out / "data" / "test-00000-of-00001.parquet")
    audio = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    assert table.schema.field("audio").type == audio
    cont = table.schema.field("continuation_audio").type
    assert pa.types.is_list(cont) and cont.value_type == audio  # not list<null>
    assert table.column("continuation_audio").to_pylist() == [[], []]
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    assert features["continuation_audio"]["feature"] == {"_type": "Audio", "sampling_rate": 16000}


def test_readme_has_a_features_section_and_a_load_dataset_example(tmp_path: Path) -> None:
    _, out = build_and_export(tmp_path)
    readme = (out / "README.md").read_text()
    assert readme.startswith("---\nconfigs:\n") and "path: data/test-*" in readme
    features = readme[readme.index("## Features") : readme.index("## Loading")]
    for line in (
        "| `uttid` | int64 |",
        "| `first` | string |",
        "| `last` | string |",
        "| `audio` | Audio (16000 Hz) |",
        "| `continuation_audio` | list of Audio (16000 Hz) |",
    ):
        assert line in features
    assert 'load_dataset("THIS_DIR", split="test")' in readme
    assert 'cast_column("audio", Audio(decode=False))' in readme


def python_blocks(readme: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", readme, flags=re.S)


@pytest.mark.parametrize("speak", ["context", "all"])
def test_the_readme_code_loads_the_audio_without_torchcodec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, speak: str
) -> None:
    datasets = pytest.importorskip("datasets")
    # datasets caches a local folder by its name (the README says so): one cache per test
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf_cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root, out = build_and_export(tmp_path, "--speak", speak)
    readme = (out / "README.md").read_text()
    blocks = python_blocks(readme)
    assert len(blocks) == 2
    namespace: dict = {}
    for block in blocks:
        exec(block.replace("THIS_DIR", str(out)), namespace)  # noqa: S102 -- our own README
    ds, row = namespace["ds"], namespace["row"]
    assert ds.features["audio"].decode is False
    expected, rate = sf.read(str(root / "audio" / "0.wav"))
    assert namespace["rate"] == rate == 16000
    assert (namespace["samples"] == expected).all()
    assert row["uttid"] == 0 and row["audio"]["path"] == "0.wav"
    spoken = namespace["spoken"]
    if speak == "all":
        assert len(spoken) == 2
        for k, samples in enumerate(spoken):
            assert (samples == sf.read(str(root / "audio" / f"0_c{k}.wav"))[0]).all()
    else:
        assert spoken == []
