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

from s2sbench.core.file_hashes import hash_file
from s2sbench.data.layout import (
    attach_continuation_audio,
    context_wav_name,
    locate_dataset,
    read_manifest,
)
from s2sbench.data.reference import read_items


def _probe(path: Path) -> tuple[float, int] | None:
    """(duration in seconds, sample rate) read from the file's header, or None if unreadable."""
    if not path.is_file():  # a FIFO would block sf.info forever
        return None
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError):
        return None
    return (info.frames / info.samplerate, int(info.samplerate)) if info.samplerate else None


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
    distinct = {hash_file(p): p for p in present}
    spoken_cont = [p for i in items for p in (i.continuation_audio or ())]
    probes = {p: _probe(p) for p in [*present, *spoken_cont]}
    context = [x[0] for p in distinct.values() if (x := probes[p]) and x[0]]
    cont = [x[0] for p in spoken_cont if (x := probes[p]) and x[0]]
    # the rate the files hold (every file, read from its header), which may differ from the
    # TTS's own rate (espeak-ng speaks at 22,050 Hz; a build resamples to --sample-rate)
    rates = Counter(x[1] for x in probes.values() if x)
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
        "sample_rates_hz": {str(rate): n for rate, n in sorted(rates.items())},
        "subjects": dict(sorted(subjects.items())),
        "tts": tts,
    }


def voice_text(voice: Any, languages: list[str]) -> str:
    """A TTS voice for people: ``en-us``, or ``cmn (zh), en-us (en)`` for a per-language table
    (only the dataset's languages, when the table names them)."""
    if not isinstance(voice, dict):
        return str(voice)
    chosen = {lang: voice[lang] for lang in languages if lang in voice} or voice
    if len(chosen) == 1:
        return str(next(iter(chosen.values())))
    return ", ".join(f"{name} ({lang})" for lang, name in chosen.items())


def rates_text(rates: dict[str, int]) -> str:
    """``16000 Hz (all 8 audio files)`` or, mixed, ``16000 Hz (7 files), 8000 Hz (1 file)``."""
    if len(rates) == 1:
        ((rate, n),) = rates.items()
        return f"{rate} Hz (all {n} audio file{'s' if n != 1 else ''})"
    by_count = sorted(rates.items(), key=lambda kv: (-kv[1], int(kv[0])))
    return ", ".join(f"{rate} Hz ({n} file{'s' if n != 1 else ''})" for rate, n in by_count)


def _tts_line(tts: dict[str, Any], languages: list[str]) -> str:
    parts = [str(tts.get("backend"))]
    if tts.get("version"):
        parts[0] += f" {tts['version']}"
    if tts.get("voice") is not None:
        parts.append(f"voice {voice_text(tts['voice'], languages)}")
    if tts.get("sample_rate"):
        parts.append(f"speaks at {tts['sample_rate']} Hz")
    return "tts: " + ", ".join(parts)


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
    if info.get("sample_rates_hz"):
        lines.append(f"sample rate: {rates_text(info['sample_rates_hz'])}")
    if info["subjects"]:
        lines.append("subjects: " + ", ".join(f"{k} ({v})" for k, v in info["subjects"].items()))
    if info["tts"]:
        lines.append(_tts_line(info["tts"], info["languages"]))
    return "\n".join(lines)
