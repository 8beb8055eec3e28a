"""Reading a score store without changing it: every intact record, checked as the store checks.

The store (:mod:`s2sbench.scores.store`) and every reader of ``scores.jsonl``
(reports rebuilding per-item records) go through :func:`scan_store`, so they
agree on what a line means: the header line is skipped, each record's checksum
must hold, a torn last line (a run killed mid-write) is left out, and a damaged
line anywhere else is a :class:`~s2sbench.core.errors.StoreError` naming
``file:line``. :func:`read_store` takes no lock and writes nothing, so a report
can read the store of a run that is still going.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from s2sbench.core.errors import StoreError
from s2sbench.core.regular_files import read_regular
from s2sbench.core.score_record import ScoreRecord
from s2sbench.scores.records import STORE_HEADER, check_first_line, parse_line, record_from_entry


@dataclass(frozen=True)
class StoredScore:
    """One record of the store and the key it is stored under."""

    model: str
    key: str
    record: ScoreRecord


@dataclass(frozen=True)
class StoreScan:
    """The intact records of a store's bytes, and what a writer must repair before appending."""

    scores: list[StoredScore]
    torn_at: int | None  # byte offset of a torn last line, left out of ``scores``
    needs_newline: bool  # the bytes end without a newline after an intact last line


def scan_store(path: Path, raw: bytes) -> StoreScan:
    """Every record of ``raw`` (the bytes of the store at ``path``), checked.

    The first line must be the header, or (a store written before the header
    existed) a record with a valid checksum: anything else is a file s2sbench
    did not write, refused untouched.
    """
    lines = raw.split(b"\n")
    first = lines[0].rstrip(b"\r")
    header = STORE_HEADER.encode()
    if first != header:
        check_first_line(path, first)
    scores: list[StoredScore] = []
    offset = 0
    for number, line in enumerate(lines, start=1):
        is_last = number == len(lines) or (number == len(lines) - 1 and not lines[-1])
        start, offset = offset, offset + len(line) + 1
        if (number == 1 and first == header) or not line.strip():
            continue
        entry = parse_line(line)
        if entry is None:
            if is_last and number > 1:
                return StoreScan(scores, start, False)
            raise StoreError(
                "damaged record (checksum mismatch)",
                where=f"{path}:{number}",
                hint="the store was edited or corrupted; move it away to start afresh",
            )
        record = record_from_entry(entry, f"{path}:{number}")
        scores.append(StoredScore(entry["model"], entry["key"], record))
    return StoreScan(scores, None, not raw.endswith(b"\n"))


def read_store(path: Path) -> Iterator[StoredScore]:
    """The intact records of the store file ``path``, read-only (none when it is absent).

    Read without following a link and refusing a FIFO, like the store itself.
    """
    raw = read_regular(Path(path))
    if not raw:
        return
    yield from scan_store(Path(path), raw).scores
