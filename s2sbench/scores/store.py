"""Append-only, content-keyed score store: resume, cache, and the raw numbers for metrics.

One JSON line per scored context request, holding every continuation's raw
numbers, keyed by ``(model id, request key)``. The model id hashes the
adapter's full fingerprint (weights, revision, dtype...) and the request key
hashes task version, condition, prompt template, item text and audio bytes,
so a score is reused only for exactly the same question to exactly the same
model. Each line carries a CRC of its content: a torn last line (a killed
run) is dropped and cut off on open; a damaged line elsewhere is an error,
never silently skipped. A lock file keeps two runs from writing one store.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from s2sbench.errors import StoreError
from s2sbench.models.base import ContinuationScore
from s2sbench.reports.io import lock_directory, remove_stale_temps, unlock
from s2sbench.requests.build import ContextRequest

STORE_NAME = "scores.jsonl"
LOCK_NAME = ".s2sbench.lock"
FSYNC_EVERY_S = 1.0


def model_id(fingerprint: Mapping[str, Any]) -> str:
    blob = json.dumps(fingerprint, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _crc(payload: Mapping[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return f"{zlib.crc32(blob.encode('utf-8')):08x}"


@dataclass(frozen=True)
class ScoreRecord:
    """The stored numbers of one request: what metrics and sample logs are built from."""

    task: str
    condition: str
    item_id: str
    gold: int
    scores: tuple[ContinuationScore, ...]
    n_chars: tuple[int, ...]
    n_bytes: tuple[int, ...]
    part: tuple[int, ...] | None = None  # the item's continuations this record holds; None: all

    @property
    def losses(self) -> list[float]:
        return [s.loss for s in self.scores]

    @staticmethod
    def from_request(request: ContextRequest, scores: list[ContinuationScore]) -> ScoreRecord:
        return ScoreRecord(
            task=request.task,
            condition=request.condition.value,
            item_id=request.item_id,
            gold=request.gold,
            scores=tuple(scores),
            n_chars=tuple(len(c) for c in request.continuations),
            n_bytes=tuple(len(c.encode("utf-8")) for c in request.continuations),
            part=request.part,
        )

    def to_json(self) -> dict[str, Any]:
        part = {} if self.part is None else {"part": list(self.part)}
        return {
            "task": self.task,
            "condition": self.condition,
            "item_id": self.item_id,
            "gold": self.gold,
            "scores": [
                {"logprob_sum": s.logprob_sum, "n_tokens": s.n_tokens, "extra": dict(s.extra)}
                for s in self.scores
            ],
            "n_chars": list(self.n_chars),
            "n_bytes": list(self.n_bytes),
            **part,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ScoreRecord:
        return ScoreRecord(
            task=data["task"],
            condition=data["condition"],
            item_id=data["item_id"],
            gold=int(data["gold"]),
            scores=tuple(
                ContinuationScore(float(s["logprob_sum"]), int(s["n_tokens"]), s.get("extra", {}))
                for s in data["scores"]
            ),
            n_chars=tuple(data["n_chars"]),
            n_bytes=tuple(data["n_bytes"]),
            part=None if data.get("part") is None else tuple(int(i) for i in data["part"]),
        )


class ScoreStore:
    """Scores of one output directory (or in memory when ``directory`` is None)."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory is not None else None
        self._records: dict[tuple[str, str], ScoreRecord] = {}
        self._handle: IO[str] | None = None
        self._lock: IO[str] | None = None
        self._last_sync = 0.0
        self._failed = False  # an append already raised: closing must not hide that error
        self.dropped_torn_line = False
        if self.directory is not None:
            self._open()

    # -- opening -----------------------------------------------------------------
    def _open(self) -> None:
        assert self.directory is not None
        if self.directory.exists() and not self.directory.is_dir():
            raise StoreError(
                f"output path {self.directory} is a file", hint="give a directory for --output-path"
            )
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
            if path.exists():
                self._load(path)
            self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115
        except StoreError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise StoreError(
                f"cannot use the score store {path} ({exc.strerror})",
                hint="free disk space or fix permissions, then rerun: finished scores are kept",
            ) from None

    def _load(self, path: Path) -> None:
        raw = path.read_bytes()
        lines = raw.split(b"\n")
        offset = 0
        for number, line in enumerate(lines, start=1):
            is_last = number == len(lines) or (number == len(lines) - 1 and not lines[-1])
            end = offset + len(line) + 1
            if line.strip():
                entry = self._parse(line)
                if entry is None:
                    if is_last:  # torn by a kill mid-write: drop it and cut it off
                        with open(path, "r+b") as handle:
                            handle.truncate(offset)
                        self.dropped_torn_line = True
                        break
                    raise StoreError(
                        "damaged record (checksum mismatch)",
                        where=f"{path}:{number}",
                        hint="the store was edited or corrupted; move it away to start afresh",
                    )
                self._records[(entry["model"], entry["key"])] = ScoreRecord.from_json(entry)
            offset = end
        if raw and not raw.endswith(b"\n") and not self.dropped_torn_line:
            with open(path, "ab") as handle:
                handle.write(b"\n")

    @staticmethod
    def _parse(line: bytes) -> dict[str, Any] | None:
        try:
            entry = json.loads(line.decode("utf-8"))
            crc = entry.pop("crc")
        except (ValueError, KeyError, AttributeError, TypeError):
            return None
        return entry if _crc(entry) == crc else None

    # -- use ---------------------------------------------------------------------
    def get(self, model: str, key: str) -> ScoreRecord | None:
        return self._records.get((model, key))

    def put(self, model: str, request: ContextRequest, scores: list[ContinuationScore]) -> None:
        record = ScoreRecord.from_request(request, scores)
        self._records[(model, request.key)] = record
        if self._handle is None:
            return
        entry = {"model": model, "key": request.key, **record.to_json()}
        entry["crc"] = _crc(entry)
        try:
            self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
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

    def records(self, model: str, keys: Iterable[str]) -> list[ScoreRecord | None]:
        return [self._records.get((model, k)) for k in keys]

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
            unlock(self._lock)
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
