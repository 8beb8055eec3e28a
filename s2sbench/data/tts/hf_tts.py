"""Hugging Face text-to-speech: VITS models (MMS-TTS and friends) through transformers.

``voice`` is the model: a local folder or a hub id that ``from_pretrained``
can load (``facebook/mms-tts-eng``...). VITS draws noise for durations and
the waveform, so each sentence is synthesised under its own seed (from the
backend seed and the text) in a forked RNG: the same text always gives the
same samples, whatever was synthesised before and in whichever process, which
is what the dataset builder's resume and caching rely on. torch and
transformers are imported only when the backend is built.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

from s2sbench.core.checkpoint_files import weights_fingerprint
from s2sbench.core.errors import ConfigError, ModelError


def _weights_identity(folder: Path) -> str:
    """Content identity of local weights: config/tokenizer bytes and every weight byte.

    The same hash the score cache keys checkpoints by (``weights_fingerprint``), so a
    voice model retrained into the same folder renders new audio.
    """
    found = weights_fingerprint(folder)
    return f"{found['config_sha256']}-{found['weights_sha256']}"


class HFTTS:
    """A VITS text-to-speech model loaded with ``VitsModel.from_pretrained``."""

    name = "hf"

    def __init__(
        self,
        voice: str | None = None,
        device: str | None = None,
        seed: int = 0,
        speaking_rate: float | None = None,
        noise_scale: float | None = None,
        **_ignored: Any,
    ) -> None:
        if not voice:
            raise ConfigError(
                "the hf TTS backend needs a model",
                hint="pass --voice PATH_OR_HUB_ID, e.g. facebook/mms-tts-eng",
            )
        import torch
        import transformers
        from transformers import AutoTokenizer, VitsModel

        from s2sbench.core.hf_loading import load_config, load_preprocessor, load_pretrained

        self.voice = str(voice)
        self.seed = int(seed)
        self.device = device or "cpu"
        config = load_config(self.voice)
        if config.model_type != "vits":
            raise ConfigError(
                f"TTS model '{self.voice}' is a {config.model_type!r} model",
                hint="the hf backend runs VITS models (e.g. MMS-TTS)",
            )
        if speaking_rate is not None:
            config.speaking_rate = float(speaking_rate)
        if noise_scale is not None:
            config.noise_scale = float(noise_scale)
        self.tokenizer = load_preprocessor(AutoTokenizer, self.voice)
        self.model = load_pretrained(VitsModel, self.voice, dtype="float32", device=self.device)
        self.model.config.speaking_rate = config.speaking_rate
        self.model.config.noise_scale = config.noise_scale
        self._torch = torch
        local = Path(self.voice)
        weights = _weights_identity(local) if local.is_dir() else "hub"
        self.version = f"transformers-{transformers.__version__}/{weights}"
        self.sample_rate = int(self.model.config.sampling_rate)

    def info(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "voice": self.voice,
            "version": self.version,
            "sample_rate": self.sample_rate,
            "seed": self.seed,
            "speaking_rate": float(self.model.config.speaking_rate),
            "noise_scale": float(self.model.config.noise_scale),
        }

    def synthesize(self, text: str, lang: str) -> tuple[np.ndarray, int]:
        torch = self._torch
        inputs = self.tokenizer(text, return_tensors="pt")
        ids = inputs["input_ids"]
        pad = getattr(self.tokenizer, "pad_token_id", None)
        if ids.shape[-1] == 0 or bool((ids == pad).all()):
            raise ModelError(
                f"the TTS model '{self.voice}' knows none of the characters of {text[:40]!r}",
                hint="MMS-TTS models are per language; non-Latin scripts need romanising (uroman)",
            )
        text_seed = self.seed ^ zlib.crc32(f"{lang}\0{text}".encode())
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(text_seed)
            output = self.model(**{k: v.to(self.device) for k, v in inputs.items()})
        samples = output.waveform[0].float().cpu().numpy()
        return np.ascontiguousarray(samples, dtype=np.float32), self.sample_rate
