"""The catalogue of ``test_bad_data_inputs``: per reader, one case per class of bad file.

Each case makes its input and names what the one error line must contain.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bad_data_makers import (
    GOOD_YAML,
    bomb,
    build_from,
    deep_json,
    edit_manifest,
    export_to,
    fifo,
    hostile_parquet,
    import_from,
    info,
    jsonl,
    rows,
    run_file,
    run_heard,
    run_text,
    run_yaml_file,
    symlink_to_fifo,
    validate,
    with_row,
    write_csv,
)


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
