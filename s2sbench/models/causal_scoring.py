"""The two forward strategies over already-encoded token ids, for every adapter that has them.

*Shared context*: one forward over the contexts of a batch (left-padded, so
every context's last token sits in the last column and its logits are the only
ones kept), then one forward over all their continuations reading a fresh,
batch-expanded copy of the contexts' KV cache (:mod:`kv_reuse`). *Full
sequence*: context + continuation as one padded row per pair, the fallback for
requests that do not fit a sliding window and for caches that cannot be copied.

On both paths the output layer runs only at the positions whose log-prob is
read (the head piece; :mod:`logit_selection` for a causal LM): the continuation
tokens' predecessors. The
picked rows are normalised in float32 whatever the model's dtype, and summed
per continuation in float64. Both strategies give the same numbers, whatever
the batch size and padding side (tests/test_logits_to_keep.py,
tests/test_sliding_window_reuse.py).

This is the one forward-pass implementation of the package: what differs between
a causal LM, an audio LLM and Kimi-Audio's two streams is composed in as an inputs
piece and a head piece (:mod:`forward_pieces`), and a request may carry one
*extras* payload (its audio inputs, its second token stream) that the inputs piece
turns into keyword arguments for the rows of that request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from s2sbench.models.batching import pad_rows, picked_logprob_sums, positions_from_mask
from s2sbench.models.forward_pieces import Head, ModelInputs, TokenInputs
from s2sbench.models.kv_reuse import CannotReuseCache, expand_cache, reuse_limit
from s2sbench.models.logit_selection import LogitSelector
from s2sbench.models.text_encoding import EncodedRequest

Pair = tuple[tuple[int, ...], tuple[int, ...]]


class TokenScorer:
    """Scores encoded requests with one model object; built once per adapter and model.

    ``inputs`` and ``head`` default to a plain causal LM's (:class:`TokenInputs`,
    :class:`LogitSelector`)."""

    def __init__(
        self,
        model: Any,
        pad_id: int,
        padding_side: str,
        inputs: ModelInputs | None = None,
        head: Head | None = None,
    ):
        self.model = model
        self.pad_id = pad_id
        self.padding_side = padding_side
        self.device = next(model.parameters()).device
        self.inputs: ModelInputs = inputs if inputs is not None else TokenInputs()
        self.selector: Head = head if head is not None else LogitSelector(model)
        self._limit: tuple[int | None] | None = None

    def _kwargs(
        self, ids: Any, mask: Any, offsets: Sequence[int], extras: Sequence[Any] | None
    ) -> dict[str, Any]:
        """The forward's arguments for padded rows; position ids count real tokens only."""
        base: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if self.inputs.positions:
            base["position_ids"] = positions_from_mask(mask)
        return self.inputs.extend(base, offsets, extras)

    def reuse_limit(self) -> int | None:
        """Longest request (tokens) the shared path scores exactly; None: no limit.

        Raises :class:`CannotReuseCache` when the model's cache cannot be copied at all.
        """
        if self._limit is None:
            self._limit = (reuse_limit(self.model.config),)
        return self._limit[0]

    def fits(self, request: EncodedRequest) -> bool:
        """Whether ``request`` may be scored on the shared path (see :func:`reuse_limit`)."""
        limit = self.reuse_limit()
        return limit is None or request.longest <= limit

    def shared_context(self, batch: list[EncodedRequest]) -> list[list[float]]:
        """Contexts once (with their extras: an audio LLM's encoder runs here), then every
        continuation against a copy of their cache."""
        import torch

        if not self.inputs.positions:  # the continuation pass needs hand-built positions
            raise CannotReuseCache("the model derives its own position ids")
        dev = self.device
        with torch.inference_mode():
            ids, mask, offsets = pad_rows([e.context for e in batch], self.pad_id, "left", dev)
            last = torch.zeros_like(mask, dtype=torch.bool)
            last[:, -1] = True
            context = self._kwargs(ids, mask, offsets, [e.extras for e in batch])
            out, first = self.selector.select(last, **context, use_cache=True)
            cache = getattr(out, "cache", None)
            cache = getattr(out, "past_key_values", None) if cache is None else cache
            if cache is None:
                raise CannotReuseCache("the model returned no cache")
            del out
            owners = [b for b, e in enumerate(batch) for _ in e.continuations]
            conts = [c for e in batch for c in e.continuations]
            index = torch.tensor(owners, device=dev)
            # The first token of every continuation is predicted by its context's last position.
            sums = picked_logprob_sums(
                first, [c[0] for c in conts], range(len(conts)), len(conts), source_rows=owners
            )
            del first
            rest_targets = [t for c in conts for t in c[1:]]
            if not rest_targets:  # one-token continuations: nothing left to run
                return _by_owner(owners, sums.tolist(), len(batch))
            cont_ids, cont_mask, _ = pad_rows(conts, self.pad_id, "right", dev)
            widths = torch.tensor([len(c) - 1 for c in conts], device=dev)
            keep = torch.arange(cont_ids.shape[1], device=dev)[None, :] < widths[:, None]
            lengths = torch.tensor([len(e.context) for e in batch], device=dev)
            expanded = expand_cache(cache, index, self.reuse_limit())
            del cache
            continuation = {
                "input_ids": cont_ids,
                "attention_mask": torch.cat([mask.index_select(0, index), cont_mask], dim=1),
                "position_ids": positions_from_mask(
                    cont_mask, lengths.index_select(0, index)[:, None]
                ),
            }
            continuation = self.inputs.extend(continuation, [0] * len(conts), None)
            _, rest = self.selector.select(
                keep, **continuation, use_cache=True, **{self.selector.cache_arg: expanded}
            )
            rows = [r for r, c in enumerate(conts) for _ in c[1:]]
            sums += picked_logprob_sums(rest, rest_targets, rows, len(conts))
        return _by_owner(owners, sums.tolist(), len(batch))

    def full_sequences(
        self, pairs: Sequence[Pair], extras: Sequence[Any] | None = None
    ) -> list[float]:
        """Context + continuation as one padded sequence per pair; ``extras[b]``: the extras
        of pair ``b``'s request (an audio's features go with every row of its request)."""
        import torch

        rows = [ctx + cont for ctx, cont in pairs]
        with torch.inference_mode():
            ids, mask, offsets = pad_rows(rows, self.pad_id, self.padding_side, self.device)
            keep = torch.zeros_like(mask, dtype=torch.bool)
            for b, (offset, (ctx, cont)) in enumerate(zip(offsets, pairs)):
                keep[b, offset + len(ctx) - 1 : offset + len(ctx) + len(cont) - 1] = True
            row_extras = list(extras) if extras is not None else [None] * len(pairs)
            inputs = self._kwargs(ids, mask, offsets, row_extras)
            _, logits = self.selector.select(keep, **inputs, use_cache=False)
            targets = [t for _, cont in pairs for t in cont]
            owners = [b for b, (_, cont) in enumerate(pairs) for _ in cont]
            return picked_logprob_sums(logits, targets, owners, len(pairs)).tolist()


def _by_owner(owners: list[int], sums: list[float], n: int) -> list[list[float]]:
    grouped: list[list[float]] = [[] for _ in range(n)]
    for owner, value in zip(owners, sums):
        grouped[owner].append(value)
    return grouped
