"""The README.md of an exported parquet dataset: front matter, features, how to load it.

The front matter's ``configs`` entry is what lets ``datasets.load_dataset(DIR)`` (or the
Hub) find the split. The body says what each column holds and how to read the audio
without torchcodec: ``datasets`` decodes its ``Audio`` feature through torchcodec, whose
PyPI wheel fails to load beside a CPU-only torch build, so the README shows the path that
always works (``Audio(decode=False)``, then soundfile on
the WAV bytes). ``data export`` refuses to replace a README without the marker line
:data:`MARKER`, so it never overwrites one a person wrote.
"""

from __future__ import annotations

from typing import Any

MARKER = "s2sbench data export"
COLUMN_MEANING = {
    "uttid": "row id (story rows 2k and 2k+1: the right and the wrong ending of story k)",
    "first": "the context, as text",
    "last": "the continuation (story: right ending on even rows, wrong on odd rows)",
    "A": "continuation A",
    "B": "continuation B",
    "C": "continuation C",
    "D": "continuation D",
    "answer": "the right continuation, A-D",
    "subject": "the question's subject",
}
HEADER = """---
configs:
- config_name: default
  data_files:
  - split: {split}
    path: data/{split}-*
---
# {name}

Spoken {kind} set ({lang}, {n_rows} rows) in the S2SBench layout, exported by `{marker}`.
Load it back as a dataset folder with `s2sbench data import THIS_DIR --out DIR`.

## Features

| column | type | holds |
|---|---|---|
"""
LOADING = """
`audio` and each element of `continuation_audio` are `{{"bytes": <the WAV file>, "path":
"<uttid>.wav"}}` (mono 16-bit PCM{rate_text}); the `huggingface` schema metadata declares
them as `Audio` features, so `datasets` knows them as audio.

## Loading with `datasets`

```python
from datasets import load_dataset

ds = load_dataset("THIS_DIR", split="{split}")  # THIS_DIR: the folder holding this README
print(ds.features)
```

`datasets` caches a local folder under its name: after exporting again into a folder of the
same name, pass `download_mode="force_redownload"`, or load the file itself, which is cached
by content: `load_dataset("parquet", data_files="THIS_DIR/data/{split}-*.parquet",
split="train")`.

Decoding audio inside `datasets` (`ds[0]["audio"]`) needs `torchcodec` built for your torch;
without it, or where it does not load (the torchcodec wheel on PyPI fails beside a CPU-only
torch build), read the WAV bytes yourself, which always works:

```python
import io

import soundfile as sf
from datasets import Audio, Sequence

ds = ds.cast_column("audio", Audio(decode=False))
ds = ds.cast_column("continuation_audio", Sequence(Audio(decode=False)))
row = ds[0]
samples, rate = sf.read(io.BytesIO(row["audio"]["bytes"]))  # float64 in [-1, 1], {rate_hz}
spoken = [sf.read(io.BytesIO(c["bytes"]))[0] for c in row["continuation_audio"]]
```
"""


def _type_text(dtype: str) -> str:
    return {"int64": "int64", "string": "string"}.get(dtype, dtype)


def readme_text(
    *,
    name: str,
    kind: str,
    lang: str,
    split: str,
    n_rows: int,
    features: dict[str, Any],
    rate: int | None,
) -> str:
    """The README for an export whose ``datasets`` features are ``features``."""
    rows = []
    audio_type = f"Audio ({rate} Hz)" if rate else "Audio"
    for column, spec in features.items():
        if column == "audio":
            rows.append(f"| `audio` | {audio_type} | the spoken context (`<uttid>.wav`) |")
        elif column == "continuation_audio":
            rows.append(
                f"| `continuation_audio` | list of {audio_type} | the spoken continuations "
                "(`<item>_c<k>.wav`, k in the item's order); an empty list when the set "
                "speaks only its contexts |"
            )
        else:
            meaning = COLUMN_MEANING.get(column, "a field of the source rows")
            rows.append(f"| `{column}` | {_type_text(spec.get('dtype', '?'))} | {meaning} |")
    head = HEADER.format(split=split, name=name, kind=kind, lang=lang, n_rows=n_rows, marker=MARKER)
    loading = LOADING.format(
        split=split,
        rate_text=f", {rate} Hz" if rate else "",
        rate_hz=f"rate == {rate}" if rate else "rate from the file",
    )
    return head + "\n".join(rows) + "\n" + loading
