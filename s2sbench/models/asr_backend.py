"""What a cascade needs from its speech recogniser, and the bookkeeping every cascade shares.

A cascade (ASR -> LM) turns each spoken context into a transcript and then
scores it as text. Any recogniser plugs in through :class:`ASRBackend`: it
gets *many* files of one language per call (``transcribe_many``), so it can
batch them (Whisper ``generate`` over a padded batch, a pool of pocketsphinx
processes, CTranslate2's batched decoding), and it never sees a file twice in
a run: :class:`Transcripts` asks only for files whose (content, language,
joiner) it has not transcribed yet, whatever the number of continuations,
conditions and rows sharing a file. It also counts the seconds of audio
decoded and the time spent on them, so a run can report its ASR speed as
seconds of compute per second of audio (``results.json`` -> ``config.asr``).

Nothing here imports torch: the pocketsphinx cascade uses it too.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.core.file_hashes import hash_file
from s2sbench.requests.prompts import REFERENCE_JOINER


@dataclasses.dataclass
class ASRTiming:
    """What one ``transcribe_many`` call (or all of them, summed) cost."""

    files: int = 0
    cached: int = 0
    decoded: int = 0
    retried_windows: int = 0
    silent_windows: int = 0  # emptied by the no-speech gate
    audio_seconds: float = 0.0  # of the files decoded (cache hits cost no compute)
    compute_seconds: float = 0.0  # wall time of audio decoding, features, encode and generate

    @property
    def seconds_per_audio_second(self) -> float | None:
        return self.compute_seconds / self.audio_seconds if self.audio_seconds else None

    def add(self, other: ASRTiming) -> None:
        for name, value in dataclasses.asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


@runtime_checkable
class ASRBackend(Protocol):
    """A speech recogniser a cascade can drive."""

    def fingerprint(self) -> dict[str, Any]:
        """Everything that decides its transcripts (weights, decoding settings)."""
        ...

    def transcribe_many(
        self, paths: Sequence[Path], lang: str, *, joiner: str | None = None
    ) -> dict[Path, str]:
        """The transcript of every file in ``paths`` (distinct files, one language);
        ``joiner`` joins the pieces of audio the backend had to cut into windows (None:
        the language's joiner)."""
        ...


def audio_seconds(path: Path) -> float:
    """The file's duration from its header (0.0 if the header cannot be read)."""
    import soundfile as sf

    try:
        return float(sf.info(str(path)).duration)
    except RuntimeError:
        return 0.0


class Transcripts:
    """Each audio file transcribed once per run, misses batched into one backend call.

    Keys are (content hash, language, joiner): two paths holding the same audio
    share one transcript, a file heard in two languages gets two.
    """

    def __init__(self, backend: ASRBackend):
        self.backend = backend
        self._done: dict[tuple[str, str, str], str] = {}
        self._hashes: dict[Path, str] = {}
        self.progress: Any = None  # a Progress counting files transcribed, set by the caller
        self.files = 0
        self.audio_seconds = 0.0
        self.wall_seconds = 0.0
        self.cpu_seconds = 0.0

    def _key(self, path: Path, lang: str, joiner: str) -> tuple[str, str, str]:
        if path not in self._hashes:
            try:
                self._hashes[path] = hash_file(path)
            except OSError as exc:
                raise ModelError(f"cannot read audio for ASR: {path} ({exc.strerror})") from None
        return self._hashes[path], lang, joiner

    def get_many(
        self, paths: Iterable[Path], lang: str, joiner: str | None = None
    ) -> dict[Path, str]:
        """Transcripts of ``paths``; only files never transcribed go to the backend, together."""
        joiner = REFERENCE_JOINER.get(lang, " ") if joiner is None else joiner
        unique = list(dict.fromkeys(Path(p) for p in paths))
        missing: dict[tuple[str, str, str], Path] = {}
        for path in unique:
            key = self._key(path, lang, joiner)
            if key not in self._done:
                missing.setdefault(key, path)
        if missing:
            start, start_cpu = time.perf_counter(), time.process_time()
            got = self.backend.transcribe_many(list(missing.values()), lang, joiner=joiner)
            self.wall_seconds += time.perf_counter() - start
            self.cpu_seconds += time.process_time() - start_cpu
            for key, path in missing.items():
                self._done[key] = got[path]
                self.files += 1
                self.audio_seconds += audio_seconds(path)
            if self.progress is not None:
                self.progress.update(len(missing))
        return {path: self._done[self._key(path, lang, joiner)] for path in unique}

    def pending(self, requests: Sequence[ContextRequest]) -> int:
        """How many distinct spoken contexts of ``requests`` this run has not transcribed yet
        (what a transcription progress counts; text and context-free requests have none)."""
        keys = set()
        for request in requests:
            if request.context_text is None and request.context_audio is not None:
                joiner = request.joiner
                keys.add(self._key(Path(request.context_audio), request.lang, joiner))
        return len(keys - self._done.keys())

    def stats(self) -> dict[str, Any]:
        """What this run's ASR cost: files and audio seconds decoded, wall and CPU seconds
        (this process; worker processes' CPU is in their wall time), and per audio second."""
        per = self.audio_seconds or float("nan")
        # a backend with a disk cache of its own (faster-whisper, pocketsphinx) says how many
        # of those files it read back instead of decoding
        cached = getattr(getattr(self.backend, "total_timing", None), "cached", None)
        return {
            "files_transcribed": self.files,
            **({"read_from_transcript_cache": int(cached)} if cached is not None else {}),
            "audio_seconds": round(self.audio_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "wall_seconds_per_audio_second": round(self.wall_seconds / per, 4)
            if self.audio_seconds
            else None,
        }


def as_text_requests(
    requests: Sequence[ContextRequest], transcripts: Transcripts
) -> list[tuple[ContextRequest, str | None]]:
    """Each spoken request as a T2T-like one reading its transcript (no speech prefix: a text
    LM never hears audio), with the transcript; text requests pass through with None. The
    spoken contexts are transcribed together, per (language, joiner). An empty transcript
    drops the joiner too, so the LM scores the bare continuation from its BOS."""
    spoken: dict[tuple[str, str], list[Path]] = {}
    for request in requests:
        if request.context_text is None:
            if request.context_audio is None:
                raise ModelError(
                    "request has neither context text nor audio",
                    where=f"task {request.task}, item {request.item_id}",
                )
            spoken.setdefault((request.lang, request.joiner), []).append(request.context_audio)
    heard = {key: transcripts.get_many(paths, *key) for key, paths in spoken.items()}
    out: list[tuple[ContextRequest, str | None]] = []
    for request in requests:
        if request.context_text is not None:
            out.append((request, None))
            continue
        text = heard[request.lang, request.joiner][Path(request.context_audio)]  # type: ignore[arg-type]
        # Nothing heard: the continuation alone after BOS, as the context-free condition reads it.
        joiner = request.joiner if text else ""
        as_text = dataclasses.replace(
            request,
            condition=Condition.T2T,
            prefix="",
            context_text=text,
            context_audio=None,
            joiner=joiner,
        )
        out.append((as_text, text))
    return out
