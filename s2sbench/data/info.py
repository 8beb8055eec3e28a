"""``data info``: what a dataset folder holds, computed from its files, not the manifest.

Reading the items goes through the reference readers, so a set that ``info``
describes is a set that ``run`` can load; a broken one raises the reader's
one-line error (run ``data validate`` for the full list).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import soundfile as sf

from s2sbench.data.layout import (
    attach_continuation_audio,
    context_wav_name,
    locate_dataset,
    read_manifest,
)
from s2sbench.data.manifest import sha256_file
from s2sbench.data.reference import read_items


def _duration(path: Path) -> float | None:
    if not path.is_file():  # a FIFO would block sf.info forever
        return None
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError):
        return None
    return info.frames / info.samplerate if info.samplerate else None


def dataset_info(root: Path) -> dict[str, Any]:
    """Counts, durations, languages, subjects and the TTS that made the set (if known)."""
    layout = locate_dataset(Path(root))
    items = read_items(layout.kind, layout.jsonl, layout.lang, layout.audio_dir)
    items = attach_continuation_audio(items, layout.audio_dir)
    # Every row has its own context file, as the reference hears each row after its own
    # <uttid>.wav; a story pair's two files usually hold the same bytes, and are then one
    # spoken context, counted (and timed) once.
    wavs = [layout.audio_dir / context_wav_name(u) for i in items for u in i.meta["uttids"]]
    present = [p for p in wavs if p.is_file()]
    distinct = {sha256_file(p): p for p in present}
    context = [d for p in distinct.values() if (d := _duration(p))]
    spoken_cont = [p for i in items for p in (i.continuation_audio or ())]
    cont = [d for p in spoken_cont if (d := _duration(p))]
    subjects = Counter(i.subject for i in items if i.subject)
    manifest = read_manifest(layout.root) or {}
    tts = (manifest.get("build") or {}).get("tts")
    return {
        "name": layout.name,
        "kind": layout.kind,
        "languages": sorted({i.lang for i in items}),
        "items": len(items),
        "continuations": sum(len(i.continuations) for i in items),
        "context_audio": len(context),
        "context_files": len(present),
        "context_files_missing": len(wavs) - len(present),
        "continuation_audio": len(cont),
        "total_duration_s": round(sum(context) + sum(cont), 3),
        "mean_context_duration_s": round(sum(context) / len(context), 3) if context else 0.0,
        "subjects": dict(sorted(subjects.items())),
        "tts": tts,
    }


def format_info(info: dict[str, Any]) -> str:
    """Human-readable lines, one fact a line."""
    lines = [
        f"name: {info['name']}",
        f"kind: {info['kind']}",
        f"languages: {', '.join(info['languages'])}",
        f"items: {info['items']} ({info['continuations']} continuations)",
        f"audio: {info['context_audio']} distinct spoken contexts in "
        f"{info['context_files']} context files, {info['continuation_audio']} continuation files"
        + (
            f" ({info['context_files_missing']} context files missing: run data validate)"
            if info["context_files_missing"]
            else ""
        ),
        f"duration: {info['total_duration_s']:.1f} s total, "
        f"{info['mean_context_duration_s']:.2f} s mean context",
    ]
    if info["subjects"]:
        lines.append("subjects: " + ", ".join(f"{k} ({v})" for k, v in info["subjects"].items()))
    if info["tts"]:
        tts = info["tts"]
        lines.append(
            f"tts: {tts.get('backend')} voice={tts.get('voice')} version={tts.get('version')}"
        )
    return "\n".join(lines)
