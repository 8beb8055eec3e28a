"""Fixtures shared by several test files (helpers without fixtures live in their own modules)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_audio_models import write_wav


@pytest.fixture(scope="session")
def zoo_wavs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Five synthetic tone files of different lengths (one at 22.05 kHz, so resampling is on
    the path), so audio-LLM batches always join audios of different lengths."""
    root = tmp_path_factory.mktemp("zoo_wavs")
    lengths = (1.0, 2.5, 1.7, 3.0, 1.0)
    return [
        write_wav(
            root / f"{i}.wav", sec, rate=16000 if i != 1 else 22050, freq=200 + 90 * i, seed=i
        )
        for i, sec in enumerate(lengths)
    ]
