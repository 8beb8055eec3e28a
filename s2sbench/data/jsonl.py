"""Strict JSONL reading: every problem names the file and the line.

Lines are read one at a time from a regular file (a FIFO or device is
refused, a huge file is never held in memory at once). Each bad line is its
own error, so ``data validate`` can list them all while ``run`` stops at the
first: invalid UTF-8, invalid JSON, JSON nested too deeply, a number too
long to convert, a duplicate key in one object (JSON would silently keep the
last value, e.g. turn two different endings into the same one), a line that
is not an object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from s2sbench.core.errors import DataError
from s2sbench.core.regular_files import open_regular

JSONL_HINT = "check --data-dir or the task's jsonl path"
ONE_OBJECT = "each line must be one JSON object"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# uttids are integers that name ``<uttid>.wav`` and fit a parquet int64 column.
UTTID_LIMIT = 2**63
_UTTID_TEXT = re.compile(r"-?[0-9]+")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in pairs:
        if key in record:
            raise _DuplicateKey(key)
        record[key] = value
    return record


def parse_line(path: Path, number: int, line: bytes) -> dict[str, Any]:
    """One JSONL line as a dict, or the line's one-line :class:`DataError`."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError.at(
            path, number, f"invalid UTF-8 at byte {exc.start}", "re-save the file as UTF-8"
        ) from None
    try:
        record = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise DataError.at(
            path, number, f"duplicate key '{exc.key}' in one record", "keep each key once"
        ) from None
    except json.JSONDecodeError as exc:
        raise DataError.at(path, number, f"invalid JSON ({exc.msg})", ONE_OBJECT) from None
    except RecursionError:
        raise DataError.at(path, number, "JSON nested too deeply", ONE_OBJECT) from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise DataError.at(path, number, "number too long to read", ONE_OBJECT) from None
    if not isinstance(record, dict):
        raise DataError.at(path, number, "line is not a JSON object", ONE_OBJECT)
    return record


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | DataError]]:
    """``(line_number, record or that line's error)`` for each non-blank line.

    A UTF-8 byte-order mark and CRLF line ends are accepted (editors add
    them). A file that cannot be read at all (missing, a FIFO, UTF-16) raises.
    """
    path = Path(path)
    with open_regular(path, "dataset file", JSONL_HINT) as handle:
        for number, line in enumerate(handle, start=1):
            if number == 1:
                if line.startswith(UTF16_BOMS):
                    raise DataError.at(
                        path, None, "file is UTF-16 encoded", "re-save the file as UTF-8"
                    )
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            try:
                yield number, parse_line(path, number, line)
            except DataError as exc:
                yield number, exc


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)``; the first bad line raises its error."""
    for number, record in iter_jsonl(path):
        if isinstance(record, DataError):
            raise record
        yield number, record


def require_text(path: Path, line: int, record: dict[str, Any], field: str) -> str:
    """The non-empty string ``record[field]``, or a one-line error."""
    if field not in record:
        raise DataError.at(path, line, f"missing field '{field}'", "add it to the row")
    value = record[field]
    if not isinstance(value, str):
        raise DataError.at(
            path,
            line,
            f"field '{field}' must be a string, got {type(value).__name__}",
            "quote the value",
        )
    if not value.strip():
        raise DataError.at(
            path, line, f"field '{field}' is empty", "give it the text or drop the row"
        )
    return value


def require_uttid(path: Path, line: int, record: dict[str, Any]) -> int:
    """The integer ``uttid``: a JSON integer or a string of ASCII digits (the reference sorts
    by ``int(uttid)``), of magnitude below 2**63 (it names a file and fills an int64 column)."""
    hint = "uttids must be integers below 2**63 (ASCII digits, an optional leading '-')"
    if "uttid" not in record:
        raise DataError.at(path, line, "missing field 'uttid'", hint)
    raw = record["uttid"]
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _UTTID_TEXT.fullmatch(raw.strip()):
        value = int(raw.strip()) if len(raw.strip().lstrip("-")) <= 19 else UTTID_LIMIT
    if value is None:
        shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:37] + "..."
        raise DataError.at(path, line, f"uttid {shown} is not an integer", hint)
    if abs(value) >= UTTID_LIMIT:
        digits = len(str(raw).strip().lstrip("-"))
        raise DataError.at(path, line, f"uttid too large ({digits} digits)", hint)
    return value
