"""Hugging Face datasets layout: a dataset folder <-> parquet with audio columns.

``export_parquet`` writes ``OUT/data/<split>-00000-of-00001.parquet`` (one row
per JSONL row: the text fields as columns, ``audio`` = the context WAV as a
``{bytes, path}`` struct, the ``datasets`` Audio encoding, and
``continuation_audio`` = a list of such structs for ``<uttid>_c<k>.wav``) and
a README (:mod:`s2sbench.data.hf_readme`: its features and how to load it, audio included
without torchcodec) whose front matter lets ``datasets.load_dataset(OUT)`` find it. The
sampling rate is in the ``huggingface`` schema metadata (Audio feature) and
inside the WAV bytes. The ``s2sbench`` metadata keeps the task file and the
manifest, so ``import_parquet`` restores the folder byte for byte: same
JSONL, same WAV bytes, same task.yaml and, for a built set, the same
manifest. pyarrow is the optional ``parquet`` extra and is imported only here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from s2sbench.core.atomic_write import write_atomic_bytes
from s2sbench.core.errors import ConfigError, DataError
from s2sbench.core.regular_files import read_regular_bytes, require_regular_file
from s2sbench.data.hf_readme import MARKER, readme_text
from s2sbench.data.jsonl import read_jsonl
from s2sbench.data.layout import (
    AUDIO_DIR,
    JSONL_NAME,
    MANIFEST_NAME,
    TASK_YAML,
    clear_dataset,
    context_wav_name,
    continuation_wav_name,
    locate_dataset,
    read_manifest,
    rows_to_jsonl,
    task_yaml_text,
)
from s2sbench.data.manifest import compute_manifest, manifest_bytes

AUDIO_COLUMNS = ("audio", "continuation_audio")


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(
            "parquet support needs pyarrow", hint="pip install 's2sbench[parquet]'"
        ) from None
    return pa, pq


def _audio(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    return {"bytes": read_regular_bytes(path, "audio file"), "path": path.name}


def _features(columns: list[str], rows: list[dict[str, Any]], rate: int | None) -> dict:
    """The ``datasets`` feature spec, so ``load_dataset`` decodes the audio columns."""
    audio = {"_type": "Audio", "sampling_rate": rate}
    features: dict[str, Any] = {}
    for column in columns:
        sample = next((r[column] for r in rows if r.get(column) is not None), "")
        dtype = "int64" if isinstance(sample, int) and not isinstance(sample, bool) else "string"
        features[column] = {"dtype": dtype, "_type": "Value"}
    features["audio"] = audio
    features["continuation_audio"] = {"feature": audio, "_type": "Sequence"}
    return features


def _schema(pa: Any, columns: list[str], rows: list[dict[str, Any]]) -> Any:
    """Arrow types: text columns as inferred (all-null ones as strings, as the features
    say), the audio columns always typed, so a set without spoken continuations still has
    ``continuation_audio: list<struct<bytes, path>>`` (empty lists), not ``list<null>``."""
    inferred = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]).schema
    audio = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in inferred]
    return pa.schema(
        [*fields, pa.field("audio", audio), pa.field(AUDIO_COLUMNS[1], pa.list_(audio))]
    )


def export_parquet(root: Path, out: Path, split: str = "test") -> Path:
    """Write the dataset in ``root`` as a parquet dataset folder ``out``; returns the file."""
    pa, pq = _pyarrow()
    layout = locate_dataset(Path(root))
    records = [record for _, record in read_jsonl(layout.jsonl)]
    columns: list[str] = []
    for record in records:
        columns += [k for k in record if k not in columns]
    clash = [c for c in columns if c in AUDIO_COLUMNS]
    if clash:
        raise DataError.at(layout.jsonl, None, f"text field(s) {clash} clash with audio columns")
    rows = []
    for record in records:
        row = {c: record.get(c) for c in columns}
        row["audio"] = _audio(layout.audio_dir / context_wav_name(record["uttid"]))
        conts, k = [], 0
        while (path := layout.audio_dir / continuation_wav_name(record["uttid"], k)).is_file():
            conts.append(_audio(path))
            k += 1
        row["continuation_audio"] = conts
        rows.append(row)
    manifest = read_manifest(layout.root)
    rate = ((manifest or {}).get("build") or {}).get("sample_rate")
    if rate is None:
        first = next((layout.audio_dir / context_wav_name(r["uttid"]) for r in records), None)
        rate = _rate(first) if first is not None and first.is_file() else None
    task_file = layout.root / TASK_YAML
    meta = {
        "name": layout.name,
        "kind": layout.kind,
        "language": layout.lang,
        "task_yaml": task_file.read_text(encoding="utf-8") if task_file.is_file() else None,
        "manifest": manifest,
    }
    table = pa.Table.from_pylist(rows, schema=_schema(pa, columns, rows))
    features = _features(columns, rows, rate)
    hf = {"info": {"features": features}}
    table = table.replace_schema_metadata(
        {
            b"huggingface": json.dumps(hf).encode(),
            b"s2sbench": json.dumps(meta, ensure_ascii=False).encode("utf-8"),
        }
    )
    out = Path(out)
    target = _export_target(out, split)
    (out / "data").mkdir(parents=True, exist_ok=True)
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    write_atomic_bytes(target, buffer.getvalue().to_pybytes())
    readme = readme_text(
        name=layout.name,
        kind=layout.kind,
        lang=layout.lang,
        split=split,
        n_rows=len(rows),
        features=features,
        rate=rate,
    )
    write_atomic_bytes(out / "README.md", readme.encode("utf-8"))
    return target


def _export_target(out: Path, split: str) -> Path:
    """Where the parquet file goes; refuse to replace anything that is not an earlier export."""
    if not re.fullmatch(r"[\w.-]+", split) or split.startswith("."):
        raise ConfigError(f"--split {split!r} is not a plain name", hint="e.g. --split test")
    hint = "choose a new --out folder (an earlier export there is replaced)"
    if out.exists() and not out.is_dir():
        raise DataError.at(out, None, "--out exists and is not a folder", hint)
    readme, data = out / "README.md", out / "data"
    if readme.exists() and (
        not readme.is_file() or MARKER not in readme.read_text("utf-8", "replace")
    ):
        raise DataError.at(readme, None, "--out holds a README.md s2sbench did not write", hint)
    if data.exists() and not data.is_dir():
        raise DataError.at(data, None, "--out holds a file named 'data'", hint)
    target = data / f"{split}-00000-of-00001.parquet"
    if target.exists() and not target.is_file():
        raise DataError.at(target, None, "exists and is not a regular file", hint)
    if target.exists() and not readme.is_file():
        raise DataError.at(target, None, "exists and is not from an earlier export", hint)
    return target


def _rate(path: Path) -> int:
    import soundfile as sf

    return int(sf.info(str(path)).samplerate)


def _parquet_files(src: Path) -> list[Path]:
    if src.is_dir():
        files = sorted(p for p in src.rglob("*.parquet") if p.is_file())
        if not files:
            raise DataError.at(
                src, None, "no .parquet files found", "give a file or a folder of them"
            )
        return files
    require_regular_file(src, "parquet file", "give a .parquet file or a folder of them")
    return [src]


def _read_tables(pa: Any, pq: Any, files: list[Path]) -> Any:
    """The files as one table, or a one-line error naming the file that is not parquet."""
    tables = []
    for path in files:
        try:
            tables.append(pq.read_table(path))
        except (pa.ArrowException, OSError, ValueError) as exc:
            first = " ".join(str(exc).split())[:120]
            raise DataError.at(
                path,
                None,
                f"not a readable parquet file ({first})",
                "give a parquet file written by 's2sbench data export' or Hugging Face datasets",
            ) from None
    try:
        return pa.concat_tables(tables)
    except (pa.ArrowException, ValueError) as exc:
        raise DataError.at(
            files[0].parent,
            None,
            f"the parquet files do not share one schema ({' '.join(str(exc).split())[:120]})",
            "import one split at a time",
        ) from None


def import_parquet(
    src: Path, out: Path, overwrite: bool = False, kind: str | None = None, lang: str | None = None
) -> Path:
    """Write the parquet dataset ``src`` (file or folder) as a reference folder ``out``.

    ``kind``/``lang`` are needed only for parquet files not written by s2sbench.
    """
    pa, pq = _pyarrow()
    src, out = Path(src), Path(out)
    files = _parquet_files(src)
    table = _read_tables(pa, pq, files)
    try:
        meta: Any = json.loads((table.schema.metadata or {}).get(b"s2sbench", b"{}"))
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise DataError.at(files[0], None, "unreadable s2sbench metadata", "pass --kind and --lang")
    kind, lang = kind or meta.get("kind"), lang or meta.get("language")
    if kind is None or lang is None:
        raise DataError.at(
            files[0],
            None,
            "no s2sbench metadata: kind and language unknown",
            "pass --kind and --lang",
        )
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise DataError.at(
                out,
                None,
                "folder is not empty",
                "choose another --out, or pass --overwrite to replace its files",
            )
        clear_dataset(out)
    if "uttid" not in table.column_names:
        raise DataError.at(files[0], None, "no 'uttid' column")
    (out / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
    records = []
    for row in table.to_pylist():
        for cell in [row.get("audio"), *(row.get("continuation_audio") or [])]:
            if cell and cell.get("bytes") is not None:
                name = Path(str(cell.get("path") or context_wav_name(row["uttid"]))).name
                if not re.fullmatch(r"[\w-][\w.-]*\.wav", name):
                    raise DataError.at(
                        files[0],
                        None,
                        f"audio file name {name[:60]!r} of uttid {row.get('uttid')!r} is not a "
                        "plain <name>.wav",
                        "fix the 'path' of the audio cells",
                    )
                write_atomic_bytes(out / AUDIO_DIR / name, cell["bytes"])
        records.append({k: v for k, v in row.items() if k not in AUDIO_COLUMNS and v is not None})
    write_atomic_bytes(out / JSONL_NAME, rows_to_jsonl(records))
    name = meta.get("name") or out.name
    yaml_text = meta.get("task_yaml") or task_yaml_text(
        name, kind, lang, f"Imported from {src.name}"
    )
    write_atomic_bytes(out / TASK_YAML, yaml_text.encode("utf-8"))
    stored = meta.get("manifest") or {}
    build = stored.get("build") or {"source": {"file": src.name, "format": "parquet"}}
    manifest = compute_manifest(
        out, name=str(stored.get("name", name)), kind=kind, lang=lang, rows=records, build=build
    )
    write_atomic_bytes(out / MANIFEST_NAME, manifest_bytes(manifest))
    return out
