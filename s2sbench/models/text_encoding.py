"""How a text request becomes token ids, with lm-evaluation-harness's token boundaries.

Trailing whitespace of the context moves into the continuation; the
continuation's tokens are ``tok(context + continuation)[len(tok(context)):]``;
the model reads ``tok(context) + those tokens``. An empty continuation (a token
spanning the join, lm-eval #1297) is refused by name before any forward, and a
context too long for the model is cut from the left, never the continuation.
Shared by the ``hf`` adapter and, for ``move_trailing_space``, by ``hf-audio``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s2sbench.errors import ModelError
from s2sbench.requests.build import ContextRequest


@dataclass(frozen=True)
class EncodedRequest:
    """Token ids of one request: the (possibly left-truncated) context and each continuation."""

    context: tuple[int, ...]
    continuations: tuple[tuple[int, ...], ...]
    truncated: int = 0

    @property
    def longest(self) -> int:
        return len(self.context) + max(len(c) for c in self.continuations)


def move_trailing_space(context: str, continuation: str) -> tuple[str, str]:
    """lm-eval's convention: ``"A " + "b"`` is scored as ``"A" + " b"``."""
    stripped = context.rstrip()
    return stripped, context[len(stripped) :] + continuation


def encode_request(
    tokenizer: Any,
    request: ContextRequest,
    *,
    start_id: int | None,
    add_bos: bool,
    max_length: int | None,
) -> EncodedRequest:
    """Tokenize a request once; refuse empty continuations and hopeless lengths by name."""
    where = f"task {request.task}, item {request.item_id}"
    conts = []
    context, _ = move_trailing_space(request.text_context, "")
    context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
    for index, continuation in enumerate(request.continuations):
        _, cont = move_trailing_space(request.text_context, continuation)
        whole = tokenizer(context + cont, add_special_tokens=False)["input_ids"]
        cont_ids = whole[len(context_ids) :]
        if not cont_ids:
            raise ModelError(
                f"continuation {index} ({continuation!r}) has no tokens of its own: the "
                "tokenizer merged it into the context",
                where=where,
                hint="fix the item's text or the task's joiner (lm-evaluation-harness #1297)",
            )
        conts.append(tuple(cont_ids))
    if add_bos or not context_ids:
        if start_id is None:
            raise ModelError("empty context and the tokenizer has no BOS/EOS token", where=where)
        context_ids = [start_id, *context_ids]
    longest = max(len(c) for c in conts)
    dropped = 0
    if max_length is not None and len(context_ids) + longest > max_length:
        keep = max_length - longest
        if keep < 1:
            raise ModelError(
                f"a continuation of {longest} tokens does not fit max_length={max_length}",
                where=where,
                hint="raise max_length if the model allows, or shorten the continuation",
            )
        dropped = len(context_ids) - keep
        context_ids = context_ids[-keep:]
    return EncodedRequest(tuple(context_ids), tuple(conts), dropped)
