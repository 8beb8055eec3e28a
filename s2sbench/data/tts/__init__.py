"""Text-to-speech backends behind one small interface (see :mod:`s2sbench.data.tts.base`)."""

from s2sbench.data.tts.base import TTS_REGISTRY, TTSBackend, get_tts, register_tts

__all__ = ["TTS_REGISTRY", "TTSBackend", "get_tts", "register_tts"]
