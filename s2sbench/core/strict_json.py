"""Strict JSON output: never NaN or Infinity (strict parsers reject them).

An undefined statistic is written as ``null``; files are written atomically.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from s2sbench.core.atomic_write import write_atomic


def json_safe(data: Any) -> Any:
    """``data`` with every NaN and infinity replaced by None: JSON has no such numbers."""
    if isinstance(data, numbers.Real) and not isinstance(data, numbers.Integral):
        value = float(data)  # numpy floats too
        return value if math.isfinite(value) else None
    if isinstance(data, dict):
        return {key: json_safe(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(value) for value in data]
    return data


def json_text(data: Any, indent: int | None = None) -> str:
    """Strict JSON (``allow_nan=False``) of ``json_safe(data)``."""
    return json.dumps(
        json_safe(data), indent=indent, ensure_ascii=False, default=str, allow_nan=False
    )


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json_text(data, indent=2) + "\n")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    write_atomic(path, "".join(json_text(r) + "\n" for r in rows))
