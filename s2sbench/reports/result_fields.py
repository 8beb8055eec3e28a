"""Checked reading of results.json values, shared by the typed result classes.

Every ``from_json`` in :mod:`s2sbench.reports.result_metrics`,
:mod:`s2sbench.reports.result_degradation` and :mod:`s2sbench.reports.results`
reads its values through these helpers, so a file of the wrong shape fails in
one place with one message naming the JSON path (``results.task.t2t.acc``)
instead of as a ``KeyError`` or a format error deep inside a report.
``load_results_file`` turns :class:`MalformedResults` into the project's
one-line ``DataError`` naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MalformedResults(ValueError):
    """What makes a results.json unreadable: ``what`` names the JSON path and the problem."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def obj(value: Any, where: str, what: str = "an object") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResults(f"'{where}' is not {what}")
    return value


def number(data: Mapping[str, Any], key: str, where: str) -> Any:
    """``data[key]`` when it is a number or null (or absent: None); ints stay ints."""
    value = data.get(key)
    if value is not None and not is_number(value):
        raise MalformedResults(f"'{where}.{key}' is not a number")
    return value


def text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedResults(f"'{where}.{key}' is not text")
    return value


def extra(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    """The keys a reader does not know (written by a newer s2sbench), kept for the round trip."""
    return {k: v for k, v in data.items() if k not in known}


def without_none(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in pairs if v is not None}


def as_float(value: float | int | None) -> float:
    """A statistic for arithmetic or formatting: null (undefined) is NaN."""
    return float("nan") if value is None else float(value)
