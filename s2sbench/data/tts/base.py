"""The text-to-speech interface and its registry.

A TTS backend turns one sentence into mono float samples. The dataset builder
and the built-in sample audio only see this interface, so a new engine (a
Hugging Face model, a cloud voice) plugs in without touching them. ``info()``
is part of every audio cache key: a different engine, voice or version must
render new files rather than reuse old ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from s2sbench.core.errors import ConfigError
from s2sbench.core.import_object import import_object


@runtime_checkable
class TTSBackend(Protocol):
    """What the audio renderers need from a speech synthesiser."""

    name: str

    def info(self) -> dict[str, Any]:
        """Identity of the output: at least ``backend``, ``voice``, ``version``, ``sample_rate``.

        Everything that changes the samples belongs here, because audio caches
        are keyed by it.
        """
        ...

    def synthesize(self, text: str, lang: str) -> tuple[np.ndarray, int]:
        """``(samples, sample_rate)``: float32 mono samples in [-1, 1] speaking ``text``."""
        ...


# Built-in backends by name, as import strings so a registry lookup imports nothing heavy.
TTS_REGISTRY: dict[str, str] = {
    "espeak": "s2sbench.data.tts.espeak:EspeakTTS",
    "hf": "s2sbench.data.tts.hf_tts:HFTTS",
}


def register_tts(name: str, target: str | Callable[..., TTSBackend]) -> None:
    """Add a backend: an import string ``module:object`` or a factory callable."""
    TTS_REGISTRY[name] = target  # type: ignore[assignment]


def _resolve(target: str | Callable[..., TTSBackend]) -> Callable[..., TTSBackend]:
    if not isinstance(target, str):
        return target
    bad_name = ConfigError(
        f"cannot load TTS backend '{target}'",
        hint="a TTS plugin is module:object with an importable dotted module name",
    )
    return import_object(target, bad_name=bad_name)


def get_tts(name: str = "espeak", voice: str | None = None, **kwargs: Any) -> TTSBackend:
    """Build the TTS backend ``name`` (a registered name or ``module:object``).

    ``voice=None`` lets the backend pick its default voice per language.
    """
    if name in TTS_REGISTRY:
        factory = _resolve(TTS_REGISTRY[name])
    elif ":" in name:
        factory = _resolve(name)
    else:
        raise ConfigError(
            f"unknown TTS backend '{name}'",
            hint=f"known: {', '.join(TTS_REGISTRY)}; or a plugin as module:object",
        )
    return factory(voice=voice, **kwargs)
