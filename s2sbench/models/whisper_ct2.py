"""Whisper speech recognition on CTranslate2 (faster-whisper), batched, bounded and cached.

``WhisperCT2ASR(dir)`` runs any CTranslate2 Whisper folder (``model.bin``,
``config.json``, ``tokenizer.json``); :func:`bundled_whisper_dir` gives the
bundled Whisper base. ``transcribe_many(paths, lang)`` returns each file's
transcript:

* **Cache first.** Transcripts live on disk (:mod:`transcript_cache`) keyed
  by the audio's sha256 and by :meth:`fingerprint` (model files' content
  hash, device, compute type, library versions, decoding options, long-audio
  policy) plus the language and the joiner. A later run, task or condition
  reuses them without loading the model.
* **Batched.** Files not in the cache are sorted by duration and decoded
  ``batch_size`` 30-s windows per CTranslate2 call (see
  :mod:`whisper_ct2_decoding` for why a transcript cannot depend on its
  batch). Each file's transcript is stored as soon as its batch finishes, so
  a killed run keeps what it finished.
* **Language from the caller** (the task's ``en``/``zh``), never detected.
* **Long audio** follows the project's ``long_audio`` policy through
  :class:`AudioLoader` (``error`` refuses a file over 30 s, ``truncate``
  keeps its first 30 s, ``chunk`` decodes every 30-s window and joins them
  with the language's joiner); each file is decoded from disk once.
* **Empty transcripts** are data: ``""`` is returned and cached like any text.

``last_timing`` (and the running ``total_timing``) give seconds of audio and
of compute, so callers can report compute time per audio second.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from s2sbench.core.cpu import available_cores
from s2sbench.core.errors import ConfigError, ModelError
from s2sbench.core.progress import Progress, stage
from s2sbench.data.audio import AudioLoader, check_policy, probe_audio
from s2sbench.models.asr_backend import ASRTiming
from s2sbench.models.transcript_cache import TranscriptCache, content_sha256
from s2sbench.models.whisper_ct2_decoding import BatchDecoder, DecodingOptions
from s2sbench.models.whisper_ct2_folder import REQUIRED_FILES, folder_sha256, model_languages
from s2sbench.requests.prompts import REFERENCE_JOINER

SAMPLE_RATE = 16000
WINDOW_SECONDS = 30.0
# CTranslate2's greedy decoding gets cheaper per window as the batch grows (measured on the
# built-in suite, 2 CPU cores: 32 windows per call transcribe the Mandarin stories 1.3x and
# sCMMLU 1.6x faster than 8, the same transcripts); each row is decoded as it would be
# alone (see whisper_ct2_decoding), so the size changes only speed and memory.
DEFAULT_BATCH_WINDOWS = 32
INSTALL_HINT = "run: pip install faster-whisper  (the 'weights' extra of s2sbench)"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


class WhisperCT2ASR:
    """A CTranslate2 Whisper folder as an ASR backend: ``transcribe_many(paths, lang)``."""

    name = "faster-whisper"

    def __init__(
        self,
        model_dir: str | Path,
        device: str = "cpu",
        device_index: int = 0,
        compute_type: str = "int8",
        batch_size: int = DEFAULT_BATCH_WINDOWS,
        long_audio: str = "error",
        cpu_threads: int | None = None,
        decoding: DecodingOptions | None = None,
        cache_dir: Path | None = None,
    ):
        self.model_dir = Path(model_dir).expanduser()
        missing = [n for n in REQUIRED_FILES if not (self.model_dir / n).is_file()]
        if missing:
            # faster-whisper would take a missing folder for a hub name and try to download it.
            raise ModelError(
                f"not a CTranslate2 Whisper folder (missing {', '.join(missing)})",
                where=str(self.model_dir),
                hint="convert a Whisper model with ct2-transformers-converter, "
                "or use the bundled one (s2sbench.models.bundled_whisper)",
            )
        if int(batch_size) < 1:
            raise ConfigError(f"ASR batch size must be at least 1, not {batch_size}")
        self.device = device
        self.device_index = int(device_index)
        self.compute_type = compute_type
        self.batch_size = int(batch_size)
        self.long_audio = check_policy(long_audio)
        self.cpu_threads = cpu_threads
        self.decoding = decoding or DecodingOptions()
        self.cache_dir = cache_dir
        self._model: Any = None
        self._decoders: dict[str, BatchDecoder] = {}
        self._fingerprint: dict[str, Any] | None = None
        self._languages: tuple[bool, frozenset[str]] | None = None
        self.last_timing = ASRTiming()
        self.total_timing = ASRTiming()
        self.show_progress: bool | None = None  # default of transcribe_many's ``progress``

    def fingerprint(self) -> dict[str, Any]:
        """Identity of every transcript this backend produces (also its cache key)."""
        if self._fingerprint is None:
            self._fingerprint = {
                "backend": self.name,
                "model_sha256": folder_sha256(self.model_dir),
                "device": self.device,
                "compute_type": self.compute_type,
                "decoding": self.decoding.to_dict(),
                "long_audio": self.long_audio,
                "faster_whisper": _version("faster-whisper"),
                "ctranslate2": _version("ctranslate2"),
            }
        return dict(self._fingerprint, model_dir=str(self.model_dir))

    def _cache(self, lang: str, joiner: str) -> TranscriptCache:
        identity = {k: v for k, v in self.fingerprint().items() if k != "model_dir"}
        return TranscriptCache({**identity, "language": lang, "joiner": joiner}, self.cache_dir)

    @property
    def model(self) -> Any:
        """The ``faster_whisper.WhisperModel``, loaded on first use (cache hits never load it)."""
        if self._model is None:
            try:
                from faster_whisper import WhisperModel
            except ImportError:
                raise ModelError("faster-whisper is not installed", hint=INSTALL_HINT) from None

            try:
                with stage(f"loading {Path(self.model_dir).name} (faster-whisper)"):
                    self._model = WhisperModel(
                        str(self.model_dir),
                        device=self.device,
                        device_index=self.device_index,
                        compute_type=self.compute_type,
                        cpu_threads=self.cpu_threads or available_cores(),
                        local_files_only=True,
                    )
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(
                    f"cannot load the CTranslate2 Whisper model ({exc})", where=str(self.model_dir)
                ) from None
        return self._model

    def unsupported_reason(self, lang: str) -> str | None:
        """Why this model cannot transcribe ``lang``, or None when it can.

        Read from the folder's files, as faster-whisper decides it (a model with
        ``lang_ids`` is multilingual and knows the languages its tokenizer has a
        ``<|xx|>`` token for), so asking never loads the model: a rerun whose
        transcripts are all cached does not pay for it.
        """
        if self._languages is None:  # a 2 MB tokenizer.json: parsed once per instance
            self._languages = model_languages(self.model_dir)
        multilingual, languages = self._languages
        if not multilingual:
            return None if lang == "en" else f"an English-only Whisper cannot transcribe '{lang}'"
        return None if lang in languages else f"Whisper has no language '{lang}'"

    def _decoder(self, lang: str) -> BatchDecoder:
        if lang not in self._decoders:
            reason = self.unsupported_reason(lang)
            if reason is not None:
                raise ModelError(reason, where=str(self.model_dir))
            self._decoders[lang] = BatchDecoder(self.model, lang, self.decoding)
        return self._decoders[lang]

    @property
    def generate_calls(self) -> int:
        """CTranslate2 ``generate`` calls so far (tests count model work with it)."""
        return sum(d.generate_calls for d in self._decoders.values())

    def transcribe(self, path: Path, lang: str) -> str:
        return self.transcribe_many([path], lang)[Path(path)]

    def transcribe_many(
        self,
        paths: Iterable[Path],
        lang: str,
        *,
        joiner: str | None = None,
        progress: bool | None = None,
    ) -> dict[Path, str]:
        """Transcript of every file in ``paths`` (each distinct content decoded at most once).

        ``joiner`` glues the 30-s windows of a chunked file (default: the
        language's joiner, a space or nothing for Chinese). ``progress``: show it (default:
        as the run says, see :mod:`s2sbench.core.progress`).
        """
        joiner = REFERENCE_JOINER.get(lang, " ") if joiner is None else joiner
        unique = list(dict.fromkeys(Path(p) for p in paths))
        shas: dict[Path, str] = {}
        for path in unique:
            try:
                shas[path] = content_sha256(path)
            except OSError as exc:
                raise ModelError(f"cannot read audio for ASR: {path} ({exc.strerror})") from None
        cache = self._cache(lang, joiner)
        timing = ASRTiming(files=len(unique))
        out: dict[Path, str] = {}
        pending: dict[str, Path] = {}
        for path in unique:
            cached = cache.load(shas[path])
            if cached is None:
                pending.setdefault(shas[path], path)
            else:
                out[path] = cached
                timing.cached += 1
        if pending:
            decoded = self._decode_files(pending, lang, joiner, cache, timing, progress)
            for path in unique:
                if path not in out:
                    out[path] = decoded[shas[path]]
        self.last_timing = timing
        self.total_timing.add(timing)
        return out

    def _decode_files(
        self,
        jobs: dict[str, Path],
        lang: str,
        joiner: str,
        cache: TranscriptCache,
        timing: ASRTiming,
        progress: bool | None,
    ) -> dict[str, str]:
        """Decode ``jobs`` (sha -> path) in batches of windows, storing each file when done."""
        decoder = self._decoder(lang)
        # A loader per call: it caches by path, and a file rewritten between two calls must be
        # read again (its new hash already missed the transcript cache). Within the call each
        # file is decoded once.
        loader = AudioLoader(SAMPLE_RATE, WINDOW_SECONDS, self.long_audio, cache_size=1)
        # Longest first, so similar budgets share a batch and the largest memory comes early.
        order = sorted(jobs.items(), key=lambda job: (-self._header_seconds(job[1]), job[0]))
        texts: dict[str, list[str | None]] = {}
        done: dict[str, str] = {}
        queue: list[tuple[str, int, np.ndarray]] = []
        enabled = self.show_progress if progress is None else progress
        bar = Progress("transcribing (whisper)", len(order), "file", enabled=enabled)
        try:
            for index, (sha, path) in enumerate(order):
                start = time.perf_counter()
                pieces = loader.load(path)
                timing.compute_seconds += time.perf_counter() - start
                timing.audio_seconds += sum(len(p) for p in pieces) / SAMPLE_RATE
                texts[sha] = [None] * len(pieces)
                queue.extend((sha, i, piece) for i, piece in enumerate(pieces))
                last = index == len(order) - 1
                while len(queue) >= self.batch_size or (last and queue):
                    batch, queue = queue[: self.batch_size], queue[self.batch_size :]
                    self._run_batch(decoder, batch, texts, timing)
                    for key in dict.fromkeys(s for s, _, _ in batch):
                        if all(t is not None for t in texts[key]) and key not in done:
                            done[key] = joiner.join(t for t in texts[key] if t).strip()
                            cache.store(key, jobs[key], done[key])
                            timing.decoded += 1
                            bar.update(1)
        finally:
            bar.close()
        return done

    def _run_batch(
        self,
        decoder: BatchDecoder,
        batch: list[tuple[str, int, np.ndarray]],
        texts: dict[str, list[str | None]],
        timing: ASRTiming,
    ) -> None:
        start = time.perf_counter()
        results = decoder.decode([piece for _, _, piece in batch], SAMPLE_RATE)
        timing.compute_seconds += time.perf_counter() - start
        for (sha, index, _), result in zip(batch, results):
            texts[sha][index] = result.text
            timing.retried_windows += int(result.retried)
            timing.silent_windows += int(result.silent)

    def _header_seconds(self, path: Path) -> float:
        info = probe_audio(path)
        return info.frames / info.samplerate
