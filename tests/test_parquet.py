"""Hugging Face parquet layout: export and import back, losslessly."""

from __future__ import annotations

import json
import shutil

import pytest
from data_samples import cmmlu_csv, story_csv

from s2sbench.core.errors import DataError
from s2sbench.data.build import build_dataset
from s2sbench.data.layout import attach_continuation_audio, locate_dataset
from s2sbench.data.parquet_io import export_parquet, import_parquet
from s2sbench.data.reference import read_items
from s2sbench.data.validate import validate_dataset

pq = pytest.importorskip("pyarrow.parquet")


def _files(root):
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _items(root):
    layout = locate_dataset(root)
    items = read_items(layout.kind, layout.jsonl, layout.lang, layout.audio_dir)
    items = attach_continuation_audio(items, layout.audio_dir)
    return [
        (
            i.id,
            i.lang,
            i.context_text,
            i.continuations,
            i.gold,
            dict(i.meta),
            i.context_audio.read_bytes(),
            tuple(p.read_bytes() for p in i.continuation_audio or ()),
        )
        for i in items
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("pq")
    build_dataset(
        story_csv(root, "en"), root / "en", kind="story", lang="en", jobs=1, progress=False
    )
    build_dataset(
        cmmlu_csv(root), root / "zh", kind="choice", lang="zh", jobs=1, speak="all", progress=False
    )
    return root


@pytest.mark.parametrize("name", ["en", "zh"])
def test_round_trip_is_byte_identical(built, tmp_path, name):
    target = export_parquet(built / name, tmp_path / "hf")
    assert target == tmp_path / "hf" / "data" / "test-00000-of-00001.parquet"
    back = import_parquet(tmp_path / "hf", tmp_path / "back")
    assert _items(back) == _items(built / name)
    assert _files(back) == _files(built / name)  # JSONL, task.yaml, WAVs and manifest
    assert validate_dataset(back) == []


def test_parquet_has_the_hf_audio_columns_and_features(built, tmp_path):
    target = export_parquet(built / "zh", tmp_path / "hf", split="validation")
    table = pq.read_table(target)
    assert table.num_rows == 3
    assert {
        "uttid",
        "first",
        "A",
        "B",
        "C",
        "D",
        "answer",
        "subject",
        "audio",
        "continuation_audio",
    } <= set(table.column_names)
    row = table.slice(1, 1).to_pylist()[0]
    assert row["audio"]["path"] == "1.wav"
    assert row["audio"]["bytes"] == (built / "zh" / "audio" / "1.wav").read_bytes()
    assert [c["path"] for c in row["continuation_audio"]] == [f"1_c{k}.wav" for k in range(4)]
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    assert features["audio"] == {"_type": "Audio", "sampling_rate": 16000}
    assert features["uttid"] == {"dtype": "int64", "_type": "Value"}
    assert "split: validation" in (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")


def test_foreign_parquet_needs_kind_and_language(built, tmp_path):
    target = export_parquet(built / "en", tmp_path / "hf")
    table = pq.read_table(target).replace_schema_metadata(None)
    pq.write_table(table, tmp_path / "plain.parquet")
    with pytest.raises(DataError, match="pass --kind and --lang"):
        import_parquet(tmp_path / "plain.parquet", tmp_path / "a")
    back = import_parquet(tmp_path / "plain.parquet", tmp_path / "b", kind="story", lang="en")
    assert _items(back) == _items(built / "en")
    assert validate_dataset(back) == []


def test_import_refuses_a_non_empty_folder(built, tmp_path):
    export_parquet(built / "en", tmp_path / "hf")
    shutil.copytree(built / "zh", tmp_path / "taken")
    with pytest.raises(DataError, match="folder is not empty"):
        import_parquet(tmp_path / "hf", tmp_path / "taken")


def test_cli_export_and_import(built, tmp_path, capsys):
    import argparse

    from s2sbench.cli.data_cmd import add_data_parser

    parser = argparse.ArgumentParser()
    add_data_parser(parser.add_subparsers())
    for argv in (
        ["data", "export", str(built / "en"), "--out", str(tmp_path / "hf")],
        ["data", "import", str(tmp_path / "hf"), "--out", str(tmp_path / "back")],
    ):
        args = parser.parse_args(argv)
        assert args.func(args) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {tmp_path / 'hf' / 'data' / 'test-00000-of-00001.parquet'}",
        f"wrote {tmp_path / 'back'}",
    ]
    assert _files(tmp_path / "back") == _files(built / "en")


def test_import_with_overwrite_replaces_the_old_files(built, tmp_path):
    export_parquet(built / "en", tmp_path / "hf")
    shutil.copytree(built / "zh", tmp_path / "taken")
    back = import_parquet(tmp_path / "hf", tmp_path / "taken", overwrite=True)
    assert _files(back) == _files(built / "en")
