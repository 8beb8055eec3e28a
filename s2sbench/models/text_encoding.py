"""How a text request becomes token ids: lm-evaluation-harness's token boundaries and its BOS rule.

Special tokens follow the tokenizer, as a plain ``tokenizer(text)`` call and
lm-evaluation-harness 0.4.x with ``add_bos_token`` unset do: the tokens a tokenizer puts
*before* any text (Gemma's and Llama's ``<bos>``; nothing for GPT-2, Qwen, SmolLM2) start
every context. ``add_bos_token=True`` puts the BOS token there instead, ``False`` puts
nothing; a context that already starts with the BOS text gets no second one. Tokens a
tokenizer appends *after* the text (an ``add_eos_token`` tokenizer's EOS) are never put
between a context and its continuation, nor scored.

Trailing whitespace of the context moves into the continuation; the continuation's tokens
are ``tok(context + continuation)[len(tok(context)):]`` (without special tokens, which sit
before both); the model reads ``prefix + tok(context) + those tokens``. An empty context
reads the BOS token (else EOS), as lm-eval's ``prefix_token_id``. An empty continuation (a
token spanning the join, lm-eval #1297) is refused by name before any forward. A context
too long for the model's window is refused by name, unless the ``long_context`` policy is
``truncate``: then it is cut from the left (never the continuation) and the cut is counted.
Shared by ``hf``, ``hf-cascade``, the text side of ``hf-audio`` and the plugins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ConfigError, ModelError
from s2sbench.core.scoring import ContinuationScore

LONG_CONTEXT_POLICIES = ("error", "truncate")
PROBE = "a"  # any text: the special tokens a tokenizer adds do not depend on it


@dataclass(frozen=True)
class EncodedRequest:
    """Token ids of one request: the (possibly left-truncated) context and each continuation.

    ``extras``: what else the model reads with this request's rows (an audio LLM's audio
    inputs, Kimi-Audio's text stream), turned into keyword arguments by the scorer's
    inputs piece (:mod:`forward_pieces`); None for plain token requests."""

    context: tuple[int, ...]
    continuations: tuple[tuple[int, ...], ...]
    truncated: int = 0
    extras: Any = field(default=None, compare=False)

    @property
    def longest(self) -> int:
        return len(self.context) + max(len(c) for c in self.continuations)


def check_long_context(policy: str) -> str:
    """``error`` (refuse a context longer than the window) or ``truncate`` (cut from the left)."""
    if policy not in LONG_CONTEXT_POLICIES:
        raise ConfigError(
            f"unknown long_context policy '{policy}'",
            hint=f"use one of: {', '.join(LONG_CONTEXT_POLICIES)}",
        )
    return policy


def move_trailing_space(context: str, continuation: str) -> tuple[str, str]:
    """lm-eval's convention: ``"A " + "b"`` is scored as ``"A" + " b"``."""
    stripped = context.rstrip()
    return stripped, context[len(stripped) :] + continuation


def plain_ids(tokenizer: Any, text: str) -> list[int]:
    """``text``'s own tokens, no special tokens added."""
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def tokenizer_special_tokens(tokenizer: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(tokens a plain ``tokenizer(text)`` puts before the text, tokens it puts after)."""
    plain = plain_ids(tokenizer, PROBE)
    full = list(tokenizer(PROBE)["input_ids"])
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return tuple(full[:start]), tuple(full[start + len(plain) :])
    raise ModelError(
        f"the tokenizer's special tokens change the text's own tokens ({full} vs {plain})",
        hint="check the tokenizer's post-processor (tokenizer.json) or use a plugin adapter",
    )


def context_prefix(tokenizer: Any, add_bos_token: bool | None) -> tuple[int, ...]:
    """What starts every non-empty context: the tokenizer's own leading special tokens
    (``add_bos_token`` None), the BOS token (True) or nothing (False)."""
    if add_bos_token is None:
        return tokenizer_special_tokens(tokenizer)[0]
    if not add_bos_token:
        return ()
    if tokenizer.bos_token_id is None:
        raise ModelError(
            "add_bos_token=true, but the tokenizer has no BOS token",
            hint="drop add_bos_token to follow the tokenizer's own special tokens",
        )
    return (int(tokenizer.bos_token_id),)


def starts_with_bos(tokenizer: Any, text: str) -> bool:
    """True when ``text`` already begins with the BOS token's text (no second BOS then)."""
    bos = getattr(tokenizer, "bos_token", None)
    return bool(bos) and text.startswith(str(bos))


def split_text(
    tokenizer: Any,
    prefix: tuple[int, ...],
    context: str,
    continuation: str,
    where: str,
    *,
    strict: bool = False,
    name: str = "the continuation",
) -> tuple[list[int], list[int]]:
    """(prefix + context ids, continuation ids) at lm-eval's token boundary.

    The context is cut where ``tok(context)`` ends inside ``tok(context + continuation)``;
    an empty tail (the continuation merged into the context) is refused by name, and with
    ``strict`` so is a context whose own tokens change when the continuation is appended.
    """
    label = f"{name} ({continuation!r})"
    context, continuation = move_trailing_space(context, continuation)
    if starts_with_bos(tokenizer, context):
        prefix = ()
    context_ids = plain_ids(tokenizer, context)
    whole = plain_ids(tokenizer, context + continuation)
    if strict and whole[: len(context_ids)] != context_ids:
        raise ModelError(
            "the context's tokens change when the continuation is appended (a token spans "
            "the join)",
            where=where,
            hint="check the prompt template's joiner for this language",
        )
    tail = whole[len(context_ids) :]
    if not tail:
        raise ModelError(
            f"{label} has no tokens of its own: the tokenizer merged it into the context",
            where=where,
            hint="fix the item's text or the task's joiner (lm-evaluation-harness #1297)",
        )
    return [*prefix, *context_ids], tail


def fit_window(
    context_ids: list[int],
    longest: int,
    max_length: int | None,
    long_context: str,
    where: str,
) -> tuple[list[int], int]:
    """The context cut from the left to fit ``max_length`` with the longest continuation
    (``long_context="truncate"``), or a refusal naming the lengths; and how much was cut."""
    if max_length is None or len(context_ids) + longest <= max_length:
        return context_ids, 0
    keep = max_length - longest
    if keep < 1:
        raise ModelError(
            f"a continuation of {longest} tokens does not fit the model's window of "
            f"{max_length} tokens",
            where=where,
            hint="raise max_length if the model allows, or shorten the continuation",
        )
    if long_context != "truncate":
        raise ModelError(
            f"the context has {len(context_ids)} tokens; with its longest continuation "
            f"({longest}) that exceeds the model's window of {max_length} tokens",
            where=where,
            hint="shorten the item, use a model with a longer window, or pass "
            "--long-context truncate to cut the context from the left (counted in results.json)",
        )
    return context_ids[-keep:], len(context_ids) - keep


def with_truncation(scores: list[ContinuationScore], cut: int) -> list[ContinuationScore]:
    """``scores`` with ``extra["truncated_context_tokens"]`` set when ``cut`` tokens were cut."""
    if not cut:
        return scores
    return [
        ContinuationScore(s.logprob_sum, s.n_tokens, {**s.extra, "truncated_context_tokens": cut})
        for s in scores
    ]


def encode_request(
    tokenizer: Any,
    request: ContextRequest,
    *,
    prefix: tuple[int, ...],
    start_id: int | None,
    max_length: int | None,
    long_context: str = "error",
) -> EncodedRequest:
    """Tokenize a request once; refuse empty continuations and over-long contexts by name."""
    where = f"task {request.task}, item {request.item_id}"
    context_ids: list[int] = []
    conts = []
    for index, continuation in enumerate(request.continuations):
        context_ids, tail = split_text(
            tokenizer,
            prefix,
            request.text_context,
            continuation,
            where,
            name=f"continuation {index}",
        )
        conts.append(tuple(tail))
    if not context_ids:
        if start_id is None:
            raise ModelError("empty context and the tokenizer has no BOS/EOS token", where=where)
        context_ids = [start_id]
    longest = max(len(c) for c in conts)
    context_ids, dropped = fit_window(context_ids, longest, max_length, long_context, where)
    return EncodedRequest(tuple(context_ids), tuple(conts), dropped)
