"""Strict JSONL reading: every problem names the file and the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from s2sbench.errors import DataError


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each non-blank line.

    A UTF-8 byte-order mark and CRLF line ends are accepted (editors add them);
    invalid UTF-8, invalid JSON and non-object lines are errors.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError.at(
            path, None, "file not found", "check --data-dir or the task's jsonl path"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError.at(path, None, f"cannot read file ({exc.strerror})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError.at(
                path, number, f"invalid UTF-8 at byte {exc.start}", "re-save the file as UTF-8"
            ) from None
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError.at(
                path, number, f"invalid JSON ({exc.msg})", "each line must be one JSON object"
            ) from None
        if not isinstance(record, dict):
            raise DataError.at(
                path, number, "line is not a JSON object", "each line must be one JSON object"
            )
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
    """The integer ``uttid`` (ints or digit strings, as the reference sorts by int)."""
    if "uttid" not in record:
        raise DataError.at(path, line, "missing field 'uttid'", "uttids must be integers")
    value = record["uttid"]
    if isinstance(value, bool):
        value = None
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise DataError.at(
            path, line, f"uttid {record['uttid']!r} is not an integer", "uttids must be integers"
        )
    return value
