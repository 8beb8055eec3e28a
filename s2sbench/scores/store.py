"""Append-only, content-keyed score store: resume, cache, and the raw numbers for metrics.

One JSON line per scored context request, holding every continuation's raw
numbers, keyed by ``(model id, request key)``. The model id hashes the
adapter's full fingerprint (weights, revision, dtype...) and the request key
hashes task version, condition, prompt template, item text and audio bytes,
so a score is reused only for exactly the same question to exactly the same
model. Each line carries a CRC of its content: a torn last line (a killed
run) is dropped and cut off on open; a damaged line elsewhere is an error,
never silently skipped. A lock file keeps two runs from writing one store.

The store is only ever a regular file that s2sbench made: it starts with a
header line (written atomically), it is opened without following symlinks, and
a file whose first line proves nothing (``records.check_first_line``) is
refused untouched rather than "repaired".
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from s2sbench.core.atomic_write import remove_stale_temps, write_atomic
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.dir_lock import DirectoryLock, lock_directory
from s2sbench.core.errors import StoreError
from s2sbench.core.output_files import check_output_dir
from s2sbench.core.regular_files import open_regular_fd, read_regular
from s2sbench.core.score_record import ScoreRecord
from s2sbench.core.scoring import ContinuationScore
from s2sbench.scores.records import STORE_HEADER, crc
from s2sbench.scores.store_reader import scan_store

STORE_NAME = "scores.jsonl"
LOCK_NAME = ".s2sbench.lock"
FSYNC_EVERY_S = 1.0


def model_id(fingerprint: Mapping[str, Any]) -> str:
    blob = json.dumps(fingerprint, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _append_opener(path: str, flags: int) -> int:
    return open_regular_fd(Path(path), flags)


class ScoreStore:
    """Scores of one output directory (or in memory when ``directory`` is None)."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory is not None else None
        self._records: dict[tuple[str, str], ScoreRecord] = {}
        self._handle: IO[str] | None = None
        self._lock: DirectoryLock | None = None
        self._last_sync = 0.0
        self._failed = False  # an append already raised: closing must not hide that error
        self.dropped_torn_line = False
        if self.directory is not None:
            self._open()

    # -- opening -----------------------------------------------------------------
    def _open(self) -> None:
        assert self.directory is not None
        check_output_dir(self.directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot write to output directory {self.directory} ({exc.strerror})",
                hint="choose a writable --output-path",
            ) from None
        self._lock = lock_directory(self.directory, LOCK_NAME, "run")
        path = self.directory / STORE_NAME
        try:
            remove_stale_temps(self.directory)  # half-written results of a killed run
            raw = read_regular(path)
            if not raw:  # none yet (or an empty one): start it with the header, atomically
                write_atomic(path, STORE_HEADER + "\n")
                raw = (STORE_HEADER + "\n").encode()
            known = os.stat(path, follow_symlinks=False)
            cut, newline = self._load(path, raw)
            self._handle = open(path, "a", encoding="utf-8", opener=_append_opener)  # noqa: SIM115
            held = os.fstat(self._handle.fileno())
            if (held.st_dev, held.st_ino) != (known.st_dev, known.st_ino):
                raise StoreError(
                    "was replaced while s2sbench was reading it",
                    where=str(path),
                    hint="another program is writing the output directory; rerun alone",
                )
            if cut is not None:  # torn by a kill mid-write: drop it and cut it off
                os.ftruncate(self._handle.fileno(), cut)
                self.dropped_torn_line = True
            elif newline:
                self._handle.write("\n")
                self._handle.flush()
        except StoreError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise StoreError(
                f"cannot use the score store {path} ({exc.strerror})",
                hint="free disk space or fix permissions, then rerun: finished scores are kept",
            ) from None

    def _load(self, path: Path, raw: bytes) -> tuple[int | None, bool]:
        """Load every record; where to cut a torn last line, and whether a newline is due."""
        scan = scan_store(path, raw)
        for stored in scan.scores:
            self._records[(stored.model, stored.key)] = stored.record
        return scan.torn_at, scan.needs_newline

    # -- use ---------------------------------------------------------------------
    def get(self, model: str, key: str) -> ScoreRecord | None:
        return self._records.get((model, key))

    def put(self, model: str, request: ContextRequest, scores: list[ContinuationScore]) -> None:
        record = ScoreRecord.from_request(request, scores)
        self._records[(model, request.key)] = record
        if self._handle is None:
            return
        entry = {"model": model, "key": request.key, **record.to_json()}
        entry["crc"] = crc(entry)
        try:
            self._handle.write(json.dumps(entry, ensure_ascii=False, allow_nan=False) + "\n")
            self._handle.flush()
            if time.monotonic() - self._last_sync > FSYNC_EVERY_S:
                os.fsync(self._handle.fileno())
                self._last_sync = time.monotonic()
        except OSError as exc:
            self._failed = True
            raise StoreError(
                f"cannot append to {self.directory}/{STORE_NAME} ({exc.strerror})",
                hint="free disk space or fix permissions, then rerun: finished scores are kept",
            ) from None

    def close(self) -> None:
        """Flush, fsync and unlock; a failure to do so is a StoreError, never silent."""
        handle, self._handle = self._handle, None
        error: OSError | None = None
        if handle is not None:
            try:
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                error = exc
            try:
                handle.close()  # retries a failed flush; the descriptor is closed regardless
            except OSError as exc:
                error = error or exc
        if self._lock is not None:
            self._lock.release()  # removes the lock file: none stays behind
            self._lock = None
        if error is not None and not self._failed:
            raise StoreError(
                f"cannot finish writing {self.directory}/{STORE_NAME} ({error.strerror})",
                hint="free disk space or fix permissions, then rerun: finished scores are kept",
            )

    def __enter__(self) -> ScoreStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        try:
            self.close()
        except StoreError:
            if exc_type is None:  # else the error already in flight says what went wrong
                raise
