"""Checked reading of results.json values, shared by the typed result classes.

Every ``from_json`` in :mod:`s2sbench.reports.result_metrics`,
:mod:`s2sbench.reports.result_degradation` and :mod:`s2sbench.reports.results`
is :func:`read_fields`: one reader derived from the class's dataclass fields and
their type hints, so a new field is read (and checked) by declaring it, and a
file of the wrong shape fails in one place with one message naming the JSON
path (``results.task.t2t.acc``) instead of as a ``KeyError`` or a format error
deep inside a report.
``load_results_file`` turns :class:`MalformedResults` into the project's
one-line ``DataError`` naming the file.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


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


def extra(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    """The keys a reader does not know (written by a newer s2sbench), kept for the round trip."""
    return {k: v for k, v in data.items() if k not in known}


def without_none(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in pairs if v is not None}


def as_float(value: float | int | None) -> float:
    """A statistic for arithmetic or formatting: null (undefined) is NaN."""
    return float("nan") if value is None else float(value)


# ---- one reader for every typed class, derived from its dataclass fields ----

ABSENT = "absent"  # field metadata: what a file without the key means, if not the default


def _where(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


@functools.cache
def _declared(cls: type) -> tuple[tuple[dataclasses.Field[Any], ...], dict[str, Any]]:
    """A class's fields and resolved type hints, worked out once per class."""
    return dataclasses.fields(cls), get_type_hints(cls)


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not MISSING or f.default_factory is not MISSING


def _allows_none(tp: Any) -> bool:
    return _is_union(tp) and type(None) in get_args(tp)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, UnionType)


_SCALARS: dict[Any, tuple[Any, str]] = {
    int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    float: (is_number, "a number"),
    str: (lambda v: isinstance(v, str), "text"),
    bool: (lambda v: isinstance(v, bool), "true or false"),
}


def read_value(tp: Any, value: Any, where: str, renames: Mapping[str, str]) -> Any:
    """``value`` checked against the annotation ``tp`` (a :class:`MalformedResults` names
    ``where``), with nested dataclasses, mappings and lists of them read in turn."""
    if tp is Any:
        return value
    if _is_union(tp):
        members = [m for m in get_args(tp) if m is not type(None)]
        if value is None and len(members) < len(get_args(tp)):
            return None
        if len(members) == 1:
            return read_value(members[0], value, where, renames)
        if all(m in _SCALARS for m in members):  # str | int | float: any of them
            if any(_SCALARS[m][0](value) for m in members):
                return value
            names = " or ".join(
                _SCALARS[m][1] for m in members if not (m is int and float in members)
            )
            raise MalformedResults(f"'{where}' is not {names}")
        raise TypeError(f"no reader for {tp}")  # a class declaration error, not a file's
    if tp in _SCALARS:
        check, name = _SCALARS[tp]
        if not check(value):
            raise MalformedResults(f"'{where}' is not {name}")
        return value
    if dataclasses.is_dataclass(tp):
        return read_fields(tp, value, where, renames=renames)  # type: ignore[arg-type]
    origin, args = get_origin(tp), get_args(tp)
    if origin in (dict, Mapping):
        return {
            key: read_value(args[1], item, f"{where}.{key}", renames)
            for key, item in obj(value, where).items()
        }
    if origin in (list, tuple, Sequence):
        item_type = args[0]
        if not isinstance(value, list) or (
            dataclasses.is_dataclass(item_type) and not all(isinstance(v, dict) for v in value)
        ):
            what = "a list of objects" if dataclasses.is_dataclass(item_type) else "a list"
            raise MalformedResults(f"'{where}' is not {what}")
        items = [read_value(item_type, v, f"{where}[{i}]", renames) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    raise TypeError(f"no reader for {tp}")


def read_fields(
    cls: type[T],
    data: Any,
    where: str,
    *,
    renames: Mapping[str, str] | None = None,
    given: Mapping[str, Any] | None = None,
    readers: Mapping[str, Callable[[Any, str], Any]] | None = None,
) -> T:
    """A ``cls`` read from the JSON object ``data`` by its dataclass fields and their types.

    The JSON key of a field is its name (``renames`` maps field -> key where the file
    writes another, e.g. ``acc_first`` -> ``acc_t2t``; the renames also apply to the
    nested objects). A field without a default is a key the file must have (null only
    where the type allows None); one with a default may be absent (then the default, or
    its ``absent`` metadata). Values are checked against the field's type: numbers, text,
    nested typed classes, mappings and lists of them. ``given`` fields are not read from
    the file (a pair's name), ``readers`` read a field their own way, and keys that no
    field names are kept in an ``extra`` field when the class has one.
    """
    data = obj(data, where)
    renames = renames or {}
    given = dict(given or {})
    readers = readers or {}
    fields, hints = _declared(cls)  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    known: set[str] = set()
    for f in fields:
        if f.name in given or f.name == "extra" or not f.init:
            continue
        key = renames.get(f.name, f.name)
        known.add(key)
        place = _where(where, key)
        if key not in data and _has_default(f):
            if ABSENT in f.metadata:
                values[f.name] = f.metadata[ABSENT]
            continue
        if data.get(key) is None and not (key in data and _allows_none(hints[f.name])):
            raise MalformedResults(f"'{where}' lacks '{key}'" if where else f"no '{key}'")
        reader = readers.get(f.name)
        value = data[key]
        if reader is not None:
            values[f.name] = reader(value, place)
        else:
            values[f.name] = read_value(hints[f.name], value, place, renames)
    if "extra" in hints:
        values["extra"] = extra(data, tuple(known))
    return cls(**values, **given)
