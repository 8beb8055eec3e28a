"""Audio in: decode with soundfile, mix to mono, resample with soxr, police length.

Each file is decoded once per run (``AudioLoader`` caches by path and target
rate), so the continuations of one context never trigger a second decode.
Audio longer than a model's window is never cut silently: the
``long_audio`` policy is ``error`` (default), ``truncate`` or ``chunk``; with
``error`` the length is read from the header, so a two-hour file is refused
before it is decoded into memory. A file at another sample rate is resampled
(not an error); a multi-channel file is mixed down to mono by averaging its
channels, as a single-microphone speech model expects.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from s2sbench.core.errors import DataError
from s2sbench.core.regular_files import require_regular_file
from s2sbench.core.run_options import (  # noqa: F401  (re-exported: the adapters import them here)
    LONG_AUDIO_POLICIES,
    LongAudioPolicy,
)
from s2sbench.core.run_options import check_long_audio as check_policy  # noqa: F401

RERENDER = "re-render or replace the file (s2sbench data build)"


def check_contained(path: Path, root: Path, where: str) -> None:
    """Refuse an audio path that leaves ``root`` once ``..`` and symlinks are resolved.

    Dataset files come from strangers: a ``../`` name, an absolute name or a
    symlink in the audio folder must not make a run read (and hash, and send
    to a model) a file outside the dataset the user pointed at.
    """
    real, real_root = Path(path).resolve(), Path(root).resolve()
    if ".." in Path(path).parts or real_root not in real.parents:
        raise DataError(
            f"audio path leaves its dataset folder {root} (resolves to {real})",
            where=where,
            hint="datasets may only reference audio inside their audio_dir; copy the file in",
        )


def probe_audio(path: Path) -> Any:
    """The header of ``path`` (rate, channels, frames) or a clear error, without decoding it."""
    path = Path(path)
    if path.exists():  # a FIFO would block libsndfile forever: regular files only
        require_regular_file(path, "audio file", RERENDER)
    if path.is_file() and path.stat().st_size == 0:
        raise DataError.at(path, None, "audio file is empty (0 bytes)", RERENDER)
    try:
        info = sf.info(str(path))
    except FileNotFoundError:
        raise DataError.at(path, None, "audio file not found", RERENDER) from None
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise DataError.at(
            path, None, f"not a readable audio file ({exc})", RERENDER + " (WAV expected)"
        ) from None
    if info.frames <= 0:
        raise DataError.at(path, None, "audio file has no samples", RERENDER)
    return info


def read_audio(path: Path, sample_rate: int, max_seconds: float | None = None) -> np.ndarray:
    """Mono float32 samples of ``path`` at ``sample_rate``; a clear error for bad files.

    With ``max_seconds`` only the file's first ``max_seconds`` are decoded: the
    truncate policy never needs more, and a two-hour file stays out of memory.
    """
    path = Path(path)
    if not path.exists():  # libsndfile would only say "System error"
        raise DataError.at(path, None, "audio file not found", RERENDER)
    require_regular_file(path, "audio file", RERENDER)  # a FIFO would block forever
    try:
        with sf.SoundFile(str(path)) as handle:
            rate = handle.samplerate
            frames = -1 if max_seconds is None else math.ceil(max_seconds * rate)
            data = handle.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise DataError.at(path, None, f"cannot decode audio ({exc})", RERENDER) from None
    if data.size == 0:
        raise DataError.at(path, None, "audio file has no samples", RERENDER)
    if not np.isfinite(data).all():
        raise DataError.at(path, None, "audio contains NaN or infinite samples", RERENDER)
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ")
    return np.ascontiguousarray(mono, dtype=np.float32)


def _too_long(path: Path, seconds: float, max_seconds: float) -> DataError:
    return DataError.at(
        path,
        None,
        f"audio is {seconds:.1f} s, longer than the model's {max_seconds:g} s window",
        "pass --long-audio truncate or --long-audio chunk to allow it",
    )


def fit_window(
    samples: np.ndarray,
    sample_rate: int,
    max_seconds: float | None,
    policy: LongAudioPolicy,
    path: Path,
) -> list[np.ndarray]:
    """Apply the long-audio policy: one piece, a truncated piece, or window-sized chunks."""
    if max_seconds is None:
        return [samples]
    limit = int(max_seconds * sample_rate)
    if len(samples) <= limit:
        return [samples]
    if policy == "error":
        raise _too_long(path, len(samples) / sample_rate, max_seconds)
    if policy == "truncate":
        return [samples[:limit]]
    return [samples[i : i + limit] for i in range(0, len(samples), limit)]


@dataclass
class AudioLoader:
    """Decodes each (path, rate) once and keeps the most recent ones in memory."""

    sample_rate: int
    max_seconds: float | None = None
    long_audio: LongAudioPolicy = "error"
    cache_size: int = 256

    def __post_init__(self) -> None:
        check_policy(self.long_audio)
        self._cache: OrderedDict[Path, list[np.ndarray]] = OrderedDict()
        self.decode_count = 0

    def load(self, path: Path) -> list[np.ndarray]:
        """The audio as one or more window-sized pieces (several only with ``chunk``)."""
        path = Path(path)
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        if self.max_seconds is not None and self.long_audio == "error":
            info = probe_audio(path)
            if info.frames > self.max_seconds * info.samplerate:
                raise _too_long(path, info.frames / info.samplerate, self.max_seconds)
        if self.long_audio == "truncate" and self.max_seconds is not None:
            samples = read_audio(path, self.sample_rate, max_seconds=self.max_seconds)
        else:
            samples = read_audio(path, self.sample_rate)
        self.decode_count += 1
        pieces = fit_window(samples, self.sample_rate, self.max_seconds, self.long_audio, path)
        self._cache[path] = pieces
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return pieces

    def load_one(self, path: Path) -> np.ndarray:
        """The audio as one array (chunks are concatenated back for models without a window)."""
        pieces = self.load(path)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
