"""``manifest.json``: what a built dataset holds and how it was made, hash by hash.

The manifest is a pure function of the files and the build settings (no
timestamps, no absolute paths), so an interrupted-and-resumed build and an
uninterrupted one end with byte-identical manifests, and ``data validate``
can prove a published set is the one that was built.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import soundfile as sf

from s2sbench.core.atomic_write import write_atomic_bytes
from s2sbench.core.file_hashes import hash_file
from s2sbench.data.layout import AUDIO_DIR, JSONL_NAME, MANIFEST_NAME, TASK_YAML

FORMAT = "s2sbench-dataset/1"


def wav_duration(path: Path) -> float:
    info = sf.info(str(path))
    return info.frames / info.samplerate if info.samplerate else 0.0


def dataset_files(root: Path) -> list[str]:
    """Relative paths of the files a manifest covers, sorted (the manifest itself excluded)."""
    root = Path(root)
    names = [n for n in (JSONL_NAME, TASK_YAML) if (root / n).is_file()]
    audio = root / AUDIO_DIR
    if audio.is_dir():
        names += sorted(
            f"{AUDIO_DIR}/{p.name}" for p in audio.glob("*.wav") if not p.name.startswith(".")
        )
    return names


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"total_s": 0.0, "mean_s": 0.0, "min_s": 0.0, "max_s": 0.0}
    return {
        "total_s": round(sum(values), 4),
        "mean_s": round(sum(values) / len(values), 4),
        "min_s": round(min(values), 4),
        "max_s": round(max(values), 4),
    }


def compute_manifest(
    root: Path,
    *,
    name: str,
    kind: str,
    lang: str,
    rows: list[dict[str, Any]],
    build: dict[str, Any],
) -> dict[str, Any]:
    """Describe the dataset in ``root``: counts, durations, build settings, file hashes."""
    root = Path(root)
    files: dict[str, dict[str, Any]] = {}
    context: list[float] = []
    continuation: list[float] = []
    for rel in dataset_files(root):
        path = root / rel
        entry: dict[str, Any] = {"sha256": hash_file(path), "bytes": path.stat().st_size}
        if rel.endswith(".wav"):
            entry["duration_s"] = round(wav_duration(path), 4)
            (continuation if "_c" in Path(rel).stem else context).append(entry["duration_s"])
        files[rel] = entry
    subjects = Counter(str(r["subject"]) for r in rows if r.get("subject") is not None)
    n_items = len(rows) // 2 if kind == "story" else len(rows)
    return {
        "format": FORMAT,
        "name": name,
        "kind": kind,
        "language": lang,
        "build": build,
        "counts": {
            "rows": len(rows),
            "items": n_items,
            "context_wavs": len(context),
            "continuation_wavs": len(continuation),
            "subjects": dict(sorted(subjects.items())),
        },
        "durations": {"context": _stats(context), "continuation": _stats(continuation)},
        "files": files,
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    path = Path(root) / MANIFEST_NAME
    write_atomic_bytes(path, manifest_bytes(manifest))
    return path
