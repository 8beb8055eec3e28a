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
import queue
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from s2sbench.core.cpu import available_cores
from s2sbench.core.errors import ModelError
from s2sbench.core.file_hashes import hash_file
from s2sbench.core.progress import Progress
from s2sbench.models.sphinx_decoder import (
    decode,
    decoder_config,
    make_decoder,
    read_pcm16,
    start_worker,
)
from s2sbench.models.transcript_cache import TranscriptCache


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
        procs = [start_worker(self.config) for _ in range(n_workers)]

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
