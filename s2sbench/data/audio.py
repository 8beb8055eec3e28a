"""Audio in: decode with soundfile, mix to mono, resample with soxr, police length.

Each file is decoded once per run (``AudioLoader`` caches by path and target
rate), so the continuations of one context never trigger a second decode.
Audio longer than a model's window is never cut silently: the
``long_audio`` policy is ``error`` (default), ``truncate`` or ``chunk``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf
import soxr

from s2sbench.errors import ConfigError, DataError

LongAudioPolicy = Literal["error", "truncate", "chunk"]
LONG_AUDIO_POLICIES = ("error", "truncate", "chunk")


def check_policy(policy: str) -> LongAudioPolicy:
    if policy not in LONG_AUDIO_POLICIES:
        raise ConfigError(
            f"unknown long-audio policy '{policy}'", hint="use error, truncate or chunk"
        )
    return policy  # type: ignore[return-value]


def read_audio(path: Path, sample_rate: int) -> np.ndarray:
    """Mono float32 samples of ``path`` at ``sample_rate``; a clear error for bad files."""
    path = Path(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except FileNotFoundError:
        raise DataError.at(path, None, "audio file not found") from None
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise DataError.at(
            path, None, f"cannot decode audio ({exc})", "re-render or replace the file"
        ) from None
    if data.size == 0:
        raise DataError.at(path, None, "audio file has no samples", "re-render the file")
    if not np.isfinite(data).all():
        raise DataError.at(path, None, "audio contains NaN or infinite samples")
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ")
    return np.ascontiguousarray(mono, dtype=np.float32)


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
        raise DataError.at(
            path,
            None,
            f"audio is {len(samples) / sample_rate:.1f} s, longer than the model's "
            f"{max_seconds:g} s window",
            "pass --long-audio truncate or --long-audio chunk to allow it",
        )
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
