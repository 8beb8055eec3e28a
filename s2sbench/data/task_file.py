"""Reading a task YAML file safely, and the rule for task names.

A task file is a handful of ``key: value`` lines, so its loader is bounded:
a regular file of at most 1 MiB (a FIFO or ``/dev/zero`` is refused, never
read), safe YAML only (a ``!!python`` tag is an error, never code), no
anchors or aliases (an alias bomb expands a few hundred bytes into
gigabytes), and no duplicate key (YAML keeps the last value silently, so a
doubled ``kind:`` would surface later as an unrelated error).

A task name becomes part of output file names (``samples_<task>_<cond>.jsonl``,
``summaries/<task>_<cond>/``), so it is a plain word: letters, digits,
``_ . -``, starting with a letter or digit, no path separator.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from s2sbench.core.errors import ConfigError, DataError
from s2sbench.core.regular_files import read_regular_bytes

MAX_TASK_FILE_BYTES = 1 << 20
TASK_HINT = "task files are plain YAML mappings (no tags, anchors or aliases); see docs/tasks.md"
_TASK_NAME = re.compile(r"[^\W_][\w.-]{0,127}")


def check_task_name(name: str, where: str) -> str:
    """``name`` if it is safe inside a file name, else a one-line :class:`ConfigError`."""
    if not _TASK_NAME.fullmatch(name):
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise ConfigError(
            f"task name {shown!r} is not a plain name",
            where=where,
            hint="use letters, digits, '_', '.' and '-' (no '/' or '..'), at most 128 characters",
        )
    return name


class _BoundedLoader(yaml.SafeLoader):
    """``SafeLoader`` without anchors (hence without aliases) and with duplicate keys refused."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # no anchor, so no alias can refer to one: no bomb
        if getattr(event, "anchor", None) is not None:
            raise yaml.MarkedYAMLError(
                problem="anchors (&name) are not allowed", problem_mark=event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key; SafeLoader reports it
                continue
            if first != key_node.start_mark.line + 1:
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key '{key}' (first on line {first})",
                    problem_mark=key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    """The mapping in the task file ``path``, or a one-line :class:`DataError` naming the line."""
    path = Path(path)
    raw = read_regular_bytes(path, "task file", MAX_TASK_FILE_BYTES, "check the --tasks path")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError.at(
            path,
            None,
            f"cannot read task file (invalid UTF-8 at byte {exc.start})",
            "save it as UTF-8 text",
        ) from None
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text)  # the reader already refuses control characters
        spec: Any = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = getattr(mark, "line", None)
        what = getattr(exc, "problem", None) or getattr(exc, "reason", None)
        raise DataError.at(
            path,
            None if line is None else line + 1,
            f"invalid YAML ({what or type(exc).__name__})",
            TASK_HINT,
        ) from None
    except RecursionError:
        raise DataError.at(path, None, "invalid YAML (nested too deeply)", TASK_HINT) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(spec, dict):
        raise DataError.at(
            path, None, "a task file must be a YAML mapping", "write key: value lines"
        )
    return spec
