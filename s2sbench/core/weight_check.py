"""Weights that do not fit their config are refused, in one line.

transformers initialises any weight the checkpoint lacks at random, ignores weights the
config has no place for, and for a shape mismatch prints a table of every key before it
raises. A config with two layers more than its weights, or a doubled hidden size, would
then be scored as a partly random model (or stop with a 20-line report). s2sbench loads
with ``output_loading_info=True`` and the report silenced, and turns what transformers
found into one :class:`ModelError` naming the first key of each kind; ``--allow-weight-
mismatch`` (API: ``allow_weight_mismatch=True``) accepts it with one warning line.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from s2sbench.core.errors import ModelError

log = logging.getLogger(__name__)


@contextlib.contextmanager
def quiet_load_report() -> Iterator[None]:
    """transformers' loading report (a table per key) off while loading; its content is
    reported by :func:`check_loading_info` instead."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def _shape(value: Any) -> str:
    return "x".join(str(n) for n in value) if value is not None else "?"


def describe_mismatch(info: dict[str, Any]) -> str | None:
    """What ``from_pretrained``'s loading info says is wrong, in one phrase; None if nothing."""
    missing = sorted(info.get("missing_keys") or ())
    unexpected = sorted(info.get("unexpected_keys") or ())
    mismatched = sorted(info.get("mismatched_keys") or (), key=lambda entry: str(entry[0]))
    parts = []
    if missing:
        parts.append(f"{len(missing)} weights missing from the checkpoint (e.g. {missing[0]})")
    if unexpected:
        parts.append(f"{len(unexpected)} weights the config has no use for (e.g. {unexpected[0]})")
    if mismatched:
        key, found, expected = (tuple(mismatched[0]) + (None, None))[:3]
        parts.append(
            f"{len(mismatched)} weights of another shape (e.g. {key}: {_shape(found)} in the "
            f"checkpoint, {_shape(expected)} by the config)"
        )
    return "; ".join(parts) or None


def check_loading_info(info: dict[str, Any], where: str, allow_weight_mismatch: bool) -> None:
    """Refuse a checkpoint whose weights do not match its config, unless the user allowed it."""
    problem = describe_mismatch(info)
    if problem is None:
        return
    if allow_weight_mismatch:
        log.warning("%s: %s; scoring anyway (--allow-weight-mismatch)", where, problem)
        return
    raise ModelError(
        f"the weights do not match config.json: {problem}",
        where=where,
        hint="fix config.json or the weight files; pass --allow-weight-mismatch to score "
        "the model as transformers builds it (missing weights random)",
    )
