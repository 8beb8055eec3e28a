"""Run a causal LM so that its output layer sees only the positions whose log-probs are read.

The output layer is the costliest part of a small LM with a large vocabulary
(Gemma 3 270M: 262,144 x 640 multiply-adds per position, against about 100 M
for the whole transformer body), and a scorer reads it at the continuation
positions only. transformers 5 lets a causal LM's ``forward`` take
``logits_to_keep`` as a boolean ``(batch, length)`` mask and then returns the
logits of the ``True`` positions only, flattened row by row; the model's own
head runs, with its own soft-capping or scaling, so nothing about the head is
re-implemented here.

Not every model class honours the mask form (a few still slice with
``hidden[:, logits_to_keep]``, and an old forward may not know the argument):
:class:`LogitSelector` checks once per model, on a two-row probe, that the mask
gives exactly the full forward's logits at those positions. If it does not,
the selector keeps the last columns that hold every wanted position (an
integer ``logits_to_keep``, which every model taking the argument honours;
with left padding that is little more than the continuations), and failing
that computes all logits and picks the rows afterwards.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

log = logging.getLogger(__name__)

MASK, TAIL, ALL = "mask", "tail", "all"


class LogitSelector:
    """``select(keep, **inputs) -> (output, logits[keep])`` for one model object: the
    :class:`~s2sbench.models.forward_pieces.Head` of a causal LM."""

    def __init__(self, model: Any):
        self.model = model
        params = inspect.signature(model.forward).parameters
        self.mode: str | None = None if "logits_to_keep" in params else ALL
        # transformers renamed ``past_key_values`` to ``cache`` in 5.x; use what forward takes.
        self.cache_arg = "cache" if "cache" in params else "past_key_values"

    def select(self, keep: Any, **inputs: Any) -> tuple[Any, Any]:
        """The model's output and its logits at ``keep``'s ``True`` positions, ``(n, vocab)`` in
        row-major order (row by row, left to right), whatever way the model allows."""
        if self.mode is None:
            self.mode = self._probe(inputs["input_ids"].device)
        if self.mode == MASK:
            out = self.model(**inputs, logits_to_keep=keep)
            return out, out.logits
        if self.mode == TAIL:
            columns = keep.any(0).nonzero()
            width = keep.shape[1] - int(columns[0]) if len(columns) else 1
            out = self.model(**inputs, logits_to_keep=width)
            return out, out.logits[keep[:, -width:]]
        out = self.model(**inputs)
        return out, out.logits[keep]

    def _probe(self, device: Any) -> str:
        """Which form of ``logits_to_keep`` gives the full forward's logits for this model."""
        import torch

        vocab = int(self.model.get_input_embeddings().weight.shape[0])
        ids = (torch.arange(8, device=device).reshape(2, 4) * 7 + 3) % vocab
        # the first column is never kept, so the last three columns hold every kept position
        keep = torch.tensor([[False, True, False, True], [False, True, True, False]], device=device)
        with torch.inference_mode():
            full = self.model(input_ids=ids, use_cache=False).logits
            want = full[keep].float()
            for mode, arg in ((MASK, keep), (TAIL, 3)):
                try:
                    got = self.model(input_ids=ids, use_cache=False, logits_to_keep=arg).logits
                except Exception:  # a forward that rejects this form of the argument
                    continue
                if mode == TAIL:
                    got = got[keep[:, -3:]] if got.shape[:2] == (2, 3) else None
                if got is not None and got.shape == want.shape and _close(got.float(), want):
                    return mode
        log.info("%s ignores logits_to_keep: all logits computed", type(self.model).__name__)
        return ALL


def _close(a: Any, b: Any) -> bool:
    """Equal up to the rounding of a different matmul shape (bf16 models included)."""
    scale = float(b.abs().max()) or 1.0
    return bool((a - b).abs().max() <= 2e-2 * scale)
