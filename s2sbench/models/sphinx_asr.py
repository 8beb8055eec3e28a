"""pocketsphinx speech recognition, cached on disk and parallel across cores.

The cascade's ASR is slow and deterministic, so each audio file is decoded
once: transcripts are stored under ``<cache root>/transcripts/<decoder
key>/<audio sha256>.json`` (the key hashes model paths, decoder options and
pocketsphinx version) and reused by every later run, task and condition.
Files not in the cache go to worker processes (one per core, each with its
own ``Decoder``); each transcript is written as soon as it is ready, so a
killed run keeps what it finished.

Decoder presets: ``full`` is pocketsphinx's default three-pass search;
``fast`` (our default) keeps the first pass only (``fwdflat`` and
``bestpath`` off) and caps active HMMs per frame (``maxhmmpf=3000``).
Measured on the 46 espeak-ng contexts of ``sample_story_en`` (503 s of
audio): ``full`` 0.33 CPU-seconds per audio second, WER 0.820; ``fast``
0.14, WER 0.805. ``fast`` keeps a cold ``s2sbench run`` within a minute on
two cores.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from s2sbench.core.cpu import available_cores
from s2sbench.core.errors import ConfigError, ModelError, S2SBenchError
from s2sbench.core.file_hashes import hash_file
from s2sbench.core.progress import Progress
from s2sbench.models.transcript_cache import TranscriptCache

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


def _serve_worker(config: dict[str, Any]) -> None:
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


def _start_worker(config: dict[str, Any]) -> subprocess.Popen[str]:
    # The worker must import this very copy of s2sbench, installed or not.
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "s2sbench.models.sphinx_asr", json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    )


class SphinxTranscriber:
    """Transcribes audio files once each: disk cache first, then a pool of decoders.

    ``decoded`` and ``cache_hits`` count what this object did (tests and logs use them).
    """

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        workers: int | None = None,
        cache_dir: Path | None = None,
    ):
        self.config = config or decoder_config()
        self.workers = max(1, int(workers) if workers else available_cores())
        self._cache = TranscriptCache(self.config, cache_dir)
        self.key = self._cache.key
        self.cache_dir = self._cache.folder
        self._local_decoder: Any = None
        self.decoded = 0
        self.cache_hits = 0

    def _load(self, sha: str) -> str | None:
        return self._cache.load(sha)

    def _store(self, sha: str, path: Path, transcript: str) -> None:
        self._cache.store(sha, path, transcript)

    def transcribe(self, path: Path) -> str:
        return self.transcribe_many([path])[Path(path)]

    def fingerprint(self) -> dict[str, Any]:
        return dict(self.config)

    def stats(self) -> dict[str, int]:
        return {"decoded": self.decoded, "disk_cache_hits": self.cache_hits}

    def transcribe_many(
        self, paths: Iterable[Path], lang: str = "en", *, joiner: str | None = None
    ) -> dict[Path, str]:
        """Transcript of every file in ``paths`` (each distinct file decoded at most once).

        The :class:`~s2sbench.models.asr_backend.ASRBackend` call: ``lang`` can only be
        English here (the cascade refuses others first), and no audio is cut into windows.
        """
        unique = list(dict.fromkeys(Path(p) for p in paths))
        shas: dict[Path, str] = {}
        for path in unique:
            try:
                shas[path] = hash_file(path)
            except OSError as exc:
                raise ModelError(f"cannot read audio for ASR: {path} ({exc.strerror})") from None
        out: dict[Path, str] = {}
        pending: dict[str, list[Path]] = {}
        for path in unique:
            cached = self._load(shas[path])
            if cached is None:
                pending.setdefault(shas[path], []).append(path)
            else:
                out[path] = cached
                self.cache_hits += 1
        for sha, transcript in self._decode_pending({s: ps[0] for s, ps in pending.items()}):
            for path in pending[sha]:
                out[path] = transcript
        return out

    def _decode_pending(self, jobs: dict[str, Path]) -> Iterable[tuple[str, str]]:
        if not jobs:
            return
        # Longest files first, so one long file does not finish alone at the end.
        order: Sequence[tuple[str, Path]] = sorted(
            jobs.items(), key=lambda job: -job[1].stat().st_size
        )
        workers = min(self.workers, len(order))
        with Progress("transcribing (pocketsphinx)", len(order), "file") as bar:
            if workers == 1:
                if self._local_decoder is None:
                    self._local_decoder = make_decoder(self.config)
                for sha, path in order:
                    transcript = decode(self._local_decoder, read_pcm16(path))
                    self._store(sha, path, transcript)
                    self.decoded += 1
                    bar.update(1)
                    yield sha, transcript
                return
            for sha, transcript in self._decode_in_workers(order, workers):
                bar.update(1)
                yield sha, transcript

    def _decode_in_workers(
        self, order: Sequence[tuple[str, Path]], n_workers: int
    ) -> Iterator[tuple[str, str]]:
        """Decode in ``n_workers`` worker processes, one thread feeding each.

        Workers are plain ``python -m`` subprocesses rather than a multiprocessing
        pool: spawn would re-run the caller's ``__main__`` script (a top-level
        ``evaluate()`` call would recurse) and fork is unsafe in a threaded parent.
        """
        jobs: queue.SimpleQueue[tuple[str, Path]] = queue.SimpleQueue()
        for job in order:
            jobs.put(job)
        results: queue.SimpleQueue[tuple[str, Path, dict[str, str]]] = queue.SimpleQueue()
        procs = [_start_worker(self.config) for _ in range(n_workers)]

        def feed(proc: subprocess.Popen[str]) -> None:
            assert proc.stdin is not None and proc.stdout is not None
            while True:
                try:
                    sha, path = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    proc.stdin.write(json.dumps(str(path)) + "\n")
                    proc.stdin.flush()
                    line = proc.stdout.readline()
                    reply = json.loads(line) if line else {"error": "the ASR worker exited"}
                except (OSError, ValueError) as exc:
                    reply = {"error": f"the ASR worker failed ({exc})"}
                results.put((sha, path, reply))
                if "error" in reply:
                    return

        threads = [threading.Thread(target=feed, args=(p,), daemon=True) for p in procs]
        for thread in threads:
            thread.start()
        try:
            for _ in range(len(order)):
                sha, path, reply = results.get()
                if "error" in reply:
                    raise ModelError(f"pocketsphinx could not transcribe {path}: {reply['error']}")
                self._store(sha, path, reply["transcript"])
                self.decoded += 1
                yield sha, reply["transcript"]
        finally:
            for proc in procs:
                if proc.stdin is not None:
                    proc.stdin.close()
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    _serve_worker(json.loads(sys.argv[1]))
