"""The line format of the score store: checksummed records, and the header that marks our files.

Every record line carries a CRC of its content, so a torn or edited line is
told apart from an intact one. A valid checksum proves a line intact, not
usable: a zero-token or non-finite score is refused by name as well. The
first line of a store is :data:`STORE_HEADER`; stores written before the header
existed have none, and their checksummed first record proves the file ours as well.
A file whose first line is neither was not written by s2sbench and is never
appended to, cut or otherwise changed.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from s2sbench.core.errors import StoreError
from s2sbench.core.score_record import ScoreRecord

STORE_FORMAT = 1
STORE_HEADER = json.dumps({"s2sbench_score_store": STORE_FORMAT})
FOREIGN_HINT = "move it away or choose another --output-path; s2sbench never changes such a file"


def crc(payload: Mapping[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return f"{zlib.crc32(blob.encode('utf-8')):08x}"


def parse_line(line: bytes) -> dict[str, Any] | None:
    """A record whose checksum holds, else None."""
    try:
        entry = json.loads(line.decode("utf-8"))
        stored = entry.pop("crc")
    except (ValueError, KeyError, AttributeError, TypeError):
        return None
    return entry if crc(entry) == stored else None


def check_first_line(path: Path, first: bytes) -> None:
    """Refuse a file whose first line s2sbench did not write (neither header nor record)."""
    if parse_line(first) is not None:
        return  # a store written before the header existed
    try:
        version = json.loads(first.decode("utf-8")).get("s2sbench_score_store")
    except (ValueError, AttributeError):
        version = None
    if version is not None:
        raise StoreError(
            f"score store format {version!r}, this s2sbench reads format {STORE_FORMAT}",
            where=f"{path}:1",
            hint="upgrade s2sbench, or choose another --output-path",
        )
    raise StoreError(
        "not a score store of s2sbench (its first line is neither the store header nor "
        "a checksummed score)",
        where=str(path),
        hint=FOREIGN_HINT,
    )


def record_from_entry(entry: Mapping[str, Any], where: str) -> ScoreRecord:
    """The record of a checksummed store line, refusing numbers no metric may average.

    A valid checksum proves the line is intact, not that it is usable: a zero-token
    or non-finite score (written by hand, or by a faulty adapter before the checks
    existed) would become an infinite or NaN loss in results.json.
    """
    try:
        record = ScoreRecord.from_json(entry)
        _ = entry["model"], entry["key"]
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(
            f"malformed score record ({type(exc).__name__}: {exc})", where=where, hint=FOREIGN_HINT
        ) from None
    for index, score in enumerate(record.scores):
        if score.n_tokens <= 0 or not math.isfinite(score.logprob_sum):
            raise StoreError(
                f"continuation {index} of item {record.item_id} ({record.task}/"
                f"{record.condition}) has n_tokens={score.n_tokens}, "
                f"logprob_sum={score.logprob_sum}: no loss can be computed from it",
                where=where,
                hint="the store was edited or written by a faulty adapter; move it away to "
                "start afresh",
            )
    if not record.scores:
        raise StoreError("score record without scores", where=where, hint=FOREIGN_HINT)
    return record
