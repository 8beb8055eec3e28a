"""Spoken contexts for the built-in sample tasks, rendered once and cached.

The built-in tasks ship as text only; S2T needs ``<uttid>.wav`` per row, as
in the reference layout (both rows of a story pair: the wrong ending is heard
after its own ``(2k+1).wav``; here both hold the same rendering). We speak
each context with a TTS backend (espeak-ng by default),
resample to 16 kHz mono PCM16 and normalise the loudness with the dataset
builder's own renderer (``s2sbench.data.render``: -20 dBFS RMS, peaks under
-1 dBFS), so every model hears the same, reproducible files.

Cache: ``$S2SBENCH_CACHE`` (else ``$XDG_CACHE_HOME/s2sbench``, else
``~/.cache/s2sbench``) / ``audio`` / ``<task>-<key>``, where the key hashes
the JSONL bytes, the TTS ``info()`` and these render settings: changed text,
voice or settings land in a new folder instead of reusing stale audio. Files
are written under a temporary name and renamed, so a killed render never
leaves a half file; existing files are skipped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2sbench.core.atomic_write import write_atomic_bytes
from s2sbench.core.paths import cache_root
from s2sbench.core.progress import Progress
from s2sbench.data.render import DEFAULT_LOUDNESS_DBFS, PEAK_CEILING_DBFS, render_wav
from s2sbench.data.task_spec import TaskSpec
from s2sbench.data.tts.base import TTSBackend, get_tts

SAMPLE_RATE = 16000
RENDER_VERSION = "2"  # bump when the rendering code changes the samples


def render_settings() -> dict[str, Any]:
    return {
        "sample_rate": SAMPLE_RATE,
        "subtype": "PCM_16",
        "channels": 1,
        "loudness": {"target_rms_dbfs": DEFAULT_LOUDNESS_DBFS, "peak_dbfs": PEAK_CEILING_DBFS},
        "resampler": "soxr HQ",
        "render_version": RENDER_VERSION,
    }


def audio_dir_for(spec: TaskSpec, tts_info: dict[str, Any], root: Path | None = None) -> Path:
    """The cache folder of ``spec``'s audio rendered by a TTS with ``tts_info``."""
    digest = hashlib.sha256(Path(spec.jsonl).read_bytes())
    digest.update(json.dumps([tts_info, render_settings()], sort_keys=True).encode())
    return (root or cache_root()) / "audio" / f"{spec.name}-{digest.hexdigest()[:16]}"


@dataclass(frozen=True)
class RenderReport:
    """Where the audio went and how much work this call did (contexts synthesised, items
    whose files were all there already)."""

    audio_dir: Path
    rendered: int
    skipped: int


def render_task_audio(
    spec: TaskSpec,
    tts: TTSBackend | None = None,
    root: Path | None = None,
    *,
    progress: bool | None = None,
) -> RenderReport:
    """Render every missing ``<uttid>.wav`` (one per row) of ``spec`` into its cache folder.

    ``progress``: show it (default: as the run says, see :mod:`s2sbench.core.progress`); only
    contexts with a file missing count, so a fully cached task shows nothing.
    """
    items = spec.load().items
    if tts is None:
        tts = get_tts("espeak")
    out = audio_dir_for(spec, tts.info(), root)
    out.mkdir(parents=True, exist_ok=True)
    rendered = 0
    files = {}
    todo = []
    for item in items:
        # The reference layout: every row has its own <uttid>.wav (a story pair's two rows
        # speak the same context, so both files hold the same bytes, rendered once).
        paths = [out / f"{uttid}.wav" for uttid in item.meta.get("uttids", [item.id])]
        text_sha256 = hashlib.sha256(item.context_text.encode()).hexdigest()
        files.update({p.stem: {"text_sha256": text_sha256} for p in paths})
        if any(not p.exists() for p in paths):
            todo.append((item, paths))
    with Progress(f"rendering {spec.name} audio", len(todo), "ctx", enabled=progress) as bar:
        for item, paths in todo:
            present = next((p for p in paths if p.exists()), None)
            if present is not None:  # a cache from before every row had its file
                wav = present.read_bytes()
            else:
                samples, rate = tts.synthesize(item.context_text, item.lang)
                wav = render_wav(samples, rate, SAMPLE_RATE, DEFAULT_LOUDNESS_DBFS)
                rendered += 1
            for path in paths:
                if not path.exists():
                    write_atomic_bytes(path, wav)
            bar.update(1)
    skipped = len(items) - len(todo)
    manifest = {
        "task": spec.name,
        "jsonl": str(spec.jsonl),
        "lang": spec.lang,
        "jsonl_sha256": hashlib.sha256(Path(spec.jsonl).read_bytes()).hexdigest(),
        "tts": tts.info(),
        "settings": render_settings(),
        "files": files,
    }
    write_atomic_bytes(
        out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    )
    return RenderReport(out, rendered, skipped)


def ensure_sample_audio(spec: TaskSpec, tts: TTSBackend | None = None) -> TaskSpec:
    """``spec`` with its ``audio_dir`` set to rendered, cached speech of its contexts."""
    return spec.with_audio_dir(render_task_audio(spec, tts).audio_dir)
