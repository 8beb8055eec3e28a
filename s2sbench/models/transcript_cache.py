"""ASR transcripts on disk, shared by every ASR backend (pocketsphinx, faster-whisper).

ASR is the slow, deterministic part of a cascade, so each audio file is
decoded once per ASR identity and the transcript reused by every later run,
task and condition. Layout: ``<cache root>/transcripts/<key>/<audio
sha256>.json`` where ``key`` hashes the backend's full identity dict (model
files' hashes, decoding options, language, library version): a different
model or option lands in another folder, never on a stale transcript.

Each transcript is written under a temporary name and renamed, as soon as it
is known, so a killed run keeps everything it finished and never leaves a
half-written record. An unreadable record counts as a miss (it is rewritten).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from s2sbench.core.atomic_write import write_atomic
from s2sbench.core.file_hashes import hash_file
from s2sbench.core.paths import cache_root

_known_hashes: dict[tuple[str, int, int, int], str] = {}


def content_sha256(path: Path) -> str:
    """Whole-file sha256, hashed once per process while (size, mtime, inode) stay the same.

    The whole file, never a head/tail sample: a file rewritten in place with
    the same size must not keep its old hash.
    """
    stat = Path(path).stat()
    stamp = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if stamp not in _known_hashes:
        _known_hashes[stamp] = hash_file(path)
    return _known_hashes[stamp]


class TranscriptCache:
    """One folder of transcripts for one ASR identity (``identity`` must be JSON-able)."""

    def __init__(self, identity: dict[str, Any], root: Path | None = None):
        self.identity = identity
        blob = json.dumps(
            identity, sort_keys=True
        ).encode()  # keys written before the helper stay valid
        self.key = hashlib.sha256(blob).hexdigest()[:16]
        self.folder = Path(root or cache_root() / "transcripts") / self.key

    def path_for(self, sha: str) -> Path:
        return self.folder / f"{sha}.json"

    def load(self, sha: str) -> str | None:
        """The stored transcript of the audio with content hash ``sha``, or None."""
        try:
            record = json.loads(self.path_for(sha).read_text(encoding="utf-8"))
            transcript = record["transcript"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return transcript if isinstance(transcript, str) else None

    def store(self, sha: str, audio: Path, transcript: str) -> None:
        """Write one transcript atomically (temporary name in the same folder, then rename)."""
        record = {"transcript": transcript, "audio": str(audio), "decoder": self.identity}
        write_atomic(self.path_for(sha), json.dumps(record, ensure_ascii=False))
