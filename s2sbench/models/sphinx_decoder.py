"""One pocketsphinx decoder: its resolved configuration, one utterance, the worker loop.

:class:`~s2sbench.models.sphinx_asr.SphinxTranscriber` (cache, scheduling) runs
:func:`decode` in this process for one worker, or in ``python -m
s2sbench.models.sphinx_decoder`` worker processes (one per core) that read audio
paths on stdin and answer one JSON transcript per line. Everything that decides a
transcript is in :func:`decoder_config`'s output, which is what the transcript
cache key and the fingerprint hash.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from s2sbench.core.errors import ConfigError, S2SBenchError

SAMPLE_RATE = 16000
DECODER_PRESETS: dict[str, dict[str, Any]] = {
    "fast": {"fwdflat": False, "bestpath": False, "maxhmmpf": 3000},
    "full": {},
}


@lru_cache(maxsize=1)
def _pocketsphinx_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pocketsphinx")
    except PackageNotFoundError:
        return "unknown"


def default_model_paths() -> dict[str, str]:
    """The en-US acoustic model, 3-gram LM and dictionary bundled in the pocketsphinx wheel."""
    import pocketsphinx

    root = pocketsphinx.get_model_path()
    return {
        "hmm": os.path.join(root, "en-us", "en-us"),
        "lm": os.path.join(root, "en-us", "en-us.lm.bin"),
        "dict": os.path.join(root, "en-us", "cmudict-en-us.dict"),
    }


def decoder_config(
    preset: str = "fast",
    hmm: str | None = None,
    lm: str | None = None,
    dict_path: str | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The full, resolved decoder configuration: what the cache key and fingerprint hold."""
    if preset not in DECODER_PRESETS:
        raise ConfigError(
            f"unknown pocketsphinx decoder preset '{preset}'",
            hint=f"use one of: {', '.join(DECODER_PRESETS)}",
        )
    paths = default_model_paths()
    for key, value in (("hmm", hmm), ("lm", lm), ("dict", dict_path)):
        if value is not None:
            if not Path(value).exists():
                raise ConfigError(f"pocketsphinx {key} '{value}' not found")
            paths[key] = str(Path(value).resolve())
    return {
        **paths,
        "samprate": SAMPLE_RATE,
        "preset": preset,
        "options": {**DECODER_PRESETS[preset], **(options or {})},
        "pocketsphinx": _pocketsphinx_version(),
        "features": "reset per utterance",
    }


def make_decoder(config: dict[str, Any]) -> Any:
    """A pocketsphinx ``Decoder`` built from :func:`decoder_config`'s output."""
    from pocketsphinx import Decoder

    return Decoder(
        hmm=config["hmm"],
        lm=config["lm"],
        dict=config["dict"],
        samprate=config["samprate"],
        loglevel="FATAL",
        **config["options"],
    )


def read_pcm16(path: Path) -> bytes:
    """The file as 16 kHz mono signed 16-bit samples, what ``process_raw`` expects."""
    from s2sbench.data.audio import read_audio

    samples = read_audio(Path(path), SAMPLE_RATE)
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2").tobytes()


def decode(decoder: Any, pcm: bytes) -> str:
    """One utterance -> lower-case words (fillers such as ``<sil>`` and ``[noise]`` dropped).

    The feature pipeline is reset first: pocketsphinx otherwise carries its
    normalisation state from one utterance to the next, so a transcript would
    depend on which files the same worker decoded before it (and so on the
    number of workers and their scheduling).
    """
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    words = (hyp.hypstr if hyp is not None else "").lower().split()
    return " ".join(w for w in words if not w.startswith(("<", "[")))


def serve_worker(config: dict[str, Any]) -> None:
    """Worker-process loop: one JSON audio path per stdin line, one JSON reply per line."""
    decoder = make_decoder(config)
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the C library's prints go to stderr, never into the replies
    for line in sys.stdin:
        try:
            reply = {"transcript": decode(decoder, read_pcm16(Path(json.loads(line))))}
        except S2SBenchError as exc:
            reply = {"error": str(exc)}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def start_worker(config: dict[str, Any]) -> subprocess.Popen[str]:
    # The worker must import this very copy of s2sbench, installed or not.
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "s2sbench.models.sphinx_decoder", json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    )


if __name__ == "__main__":
    serve_worker(json.loads(sys.argv[1]))
