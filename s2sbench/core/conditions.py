"""The input conditions: is the context, and is the continuation, text or speech (or absent).

``none`` is the context-free baseline: the model reads the text continuation alone, from BOS.
It answers how much of the read accuracy (T2T) comes from the context at all, so the
T2T -> S2T degradation can be put in proportion (see ``metrics.context_share``). The
name says what the model is given as context: nothing.
"""

from __future__ import annotations

from enum import Enum

from s2sbench.core.errors import ConfigError


class Condition(str, Enum):
    """``T2T`` reads the context, ``S2T`` hears it; ``T2S``/``S2S`` score spoken continuations;
    ``NONE`` gives no context (the text continuation read from BOS)."""

    T2T = "t2t"
    S2T = "s2t"
    T2S = "t2s"
    S2S = "s2s"
    NONE = "none"

    @property
    def has_context(self) -> bool:
        return self is not Condition.NONE

    @property
    def context_is_speech(self) -> bool:
        return self in (Condition.S2T, Condition.S2S)

    @property
    def continuation_is_speech(self) -> bool:
        return self in (Condition.T2S, Condition.S2S)

    def __str__(self) -> str:
        return self.value


def parse_conditions(value: str | list[str] | list[Condition]) -> list[Condition]:
    """``"t2t,s2t"`` or a list -> conditions, in the given order, without repeats."""
    names = value.split(",") if isinstance(value, str) else list(value)
    out: list[Condition] = []
    for name in names:
        text = str(getattr(name, "value", name)).strip().lower()
        if not text:
            continue
        try:
            cond = Condition(text)
        except ValueError:
            raise ConfigError(
                f"unknown condition '{text}'", hint="use t2t, s2t, t2s, s2s or none (no context)"
            ) from None
        if cond not in out:
            out.append(cond)
    if not out:
        raise ConfigError("no condition given", hint="e.g. --conditions t2t,s2t")
    return out
