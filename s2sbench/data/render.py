"""Speech samples -> the WAV bytes of a dataset: resampled, loudness normalised, 16-bit mono.

One function for every builder and backend, so all files of a set share the
format and level that ``data validate`` expects.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
import soxr

from s2sbench.core.errors import DataError

DEFAULT_LOUDNESS_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0


def normalise_loudness(samples: np.ndarray, target_dbfs: float) -> np.ndarray:
    """Scale to ``target_dbfs`` RMS, lowered if needed so peaks stay under -1 dBFS.

    Equal loudness across files keeps level differences between TTS outputs
    from leaking into speech-model scores; the peak ceiling keeps it unclipped.
    """
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms == 0.0:
        raise DataError("the TTS returned silence", hint="check the text and the voice")
    gain = 10 ** (target_dbfs / 20) / rms
    peak = float(np.max(np.abs(samples)))
    gain = min(gain, 10 ** (PEAK_CEILING_DBFS / 20) / peak)
    return (samples * gain).astype(np.float32)


def render_wav(samples: np.ndarray, rate: int, sample_rate: int, loudness_dbfs: float) -> bytes:
    """Mono 16-bit PCM WAV bytes at ``sample_rate``, loudness normalised."""
    mono = np.asarray(samples, dtype=np.float32).reshape(-1)
    if mono.size == 0:
        raise DataError("the TTS returned no samples", hint="check the text and the voice")
    if rate != sample_rate:
        mono = soxr.resample(mono, rate, sample_rate, quality="HQ").astype(np.float32)
    mono = normalise_loudness(mono, loudness_dbfs)
    buffer = io.BytesIO()
    sf.write(buffer, mono, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
