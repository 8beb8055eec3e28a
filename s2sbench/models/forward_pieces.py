"""The two small pieces a :class:`~s2sbench.models.causal_scoring.TokenScorer` is built from.

There is one forward-pass implementation for every adapter that scores token-id
continuations after a context (``hf``, ``hf-cascade``, ``unit-lm``, ``hf-audio``, the
GLM-4-Voice and Kimi-Audio plugins): :class:`TokenScorer`'s shared-context and
full-sequence strategies, driven by :class:`~s2sbench.models.context_scorer.ContextScorer`
(batching, routing, the one fallback rule). What differs between kinds of model is
composed in, not inherited, as two pieces:

* :class:`ModelInputs` turns padded rows (ids, mask, position ids, already built) plus
  each row's request *extras* into the forward's keyword arguments, and says whether
  hand-built position ids apply. A causal LM needs nothing more (:class:`TokenInputs`);
  an audio LLM adds its audio features or builds ``inputs_embeds``
  (:class:`~s2sbench.models.audio_pieces.AudioInputs`); Kimi-Audio adds its text stream.
  Without hand-built positions (multimodal rotary ones, which the model derives from
  the mask) no context cache can be reused: such models score full sequences only.
* :class:`Head` runs the forward and returns the logits at the read positions only: a
  causal LM's own head cut by ``logits_to_keep``
  (:class:`~s2sbench.models.logit_selection.LogitSelector`), an audio LLM's backbone and
  output layer (:class:`~s2sbench.models.audio_pieces.BackboneHead`), Kimi-Audio's
  audio-stream head. It also names the forward's cache argument.

So a new kind of model adds a piece, never a forward loop: how positions are read,
how caches are expanded and how log-probs are summed stay in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class ModelInputs(Protocol):
    """Padded rows -> a forward's keyword arguments."""

    @property
    def positions(self) -> bool:
        """Whether hand-built position ids (counting real tokens) are given to the model;
        a context cache can be reused only then."""
        ...

    def extend(
        self, inputs: dict[str, Any], offsets: Sequence[int], extras: Sequence[Any] | None
    ) -> dict[str, Any]:
        """``inputs`` (``input_ids``, ``attention_mask`` and, when :attr:`positions`,
        ``position_ids``) completed for the model. ``offsets[b]``: where row ``b``'s first
        real token sits. ``extras``: per row, its request's extras (None when it has
        none), in row order; None for the continuation pass of the shared path, which
        reads the contexts' cache and takes no per-request inputs."""
        ...


class Head(Protocol):
    """Runs the forward; returns ``(output, logits at keep's True positions)``."""

    @property
    def cache_arg(self) -> str:
        """The forward's keyword for a cache to continue (``past_key_values`` or ``cache``)."""
        ...

    def select(self, keep: Any, **inputs: Any) -> tuple[Any, Any]:
        """The model's output (its cache when ``use_cache``) and the logits at ``keep``'s
        ``True`` positions, ``(n, vocab)`` row by row, left to right."""
        ...


class TokenInputs:
    """A plain causal LM's inputs: ids, mask and position ids as they are; no extras."""

    positions = True

    def extend(
        self, inputs: dict[str, Any], offsets: Sequence[int], extras: Sequence[Any] | None
    ) -> dict[str, Any]:
        return inputs
