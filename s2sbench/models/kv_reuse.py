"""When and how the continuations of a context may read a copy of that context's KV cache.

Scoring every continuation after one encoded context is only worth it if the
numbers equal those of scoring each (context, continuation) as its own
sequence. transformers 5 builds a model's cache from its config, one layer
object per decoder layer (``transformers.cache_utils``):

* ``DynamicLayer`` (full attention) keeps every past key and value: always exact.
* ``DynamicSlidingWindowLayer`` (Gemma 2/3/3n, Mistral, Qwen2 and Cohere 2 with
  a sliding window, ...) keeps only the last ``window - 1`` positions. Its
  continuations are read with the model's own windowed mask, so a request is
  routed here only when context + continuation fit inside the window: then the
  window never cuts anything, in either way of scoring. Longer requests are
  scored as full sequences, request by request (see :func:`reuse_limit`).
* ``DummyLayer`` holds nothing (layers reading another layer's keys, Gemma 3n).
* Linear-attention / convolution states (Mamba-style hybrids, LFM2) are copied
  the same way; whether a model's recurrent path equals its full-sequence path
  is the model's business, so their equality is tested per architecture.
* Anything else (chunked attention, whose chunks start at absolute positions,
  static, quantized, offloaded or indexed caches, legacy cache subclasses)
  raises :class:`CannotReuseCache` and the adapter scores full sequences.

The copy is a new cache object whose layers hold new tensors (``reorder_cache``
on a shallow copy reassigns, it never writes into the original's tensors), so a
forward that appends to the copy leaves the context's cache as it was: a cache
mutated in place across calls is transformers #37078.
"""

from __future__ import annotations

import copy
from typing import Any


class CannotReuseCache(Exception):
    """A model's KV cache cannot be copied across continuations: score full sequences."""


def _layer_kinds() -> dict[type, str]:
    """Cache layer classes this module can copy, by kind ("full", "window", "none", "state")."""
    from transformers import cache_utils as cu

    kinds: dict[type, str] = {cu.DynamicLayer: "full", cu.DynamicSlidingWindowLayer: "window"}
    kinds[cu.DummyLayer] = "none"
    for name, kind in (
        ("LinearAttentionLayer", "state"),
        ("LinearAttentionAndFullAttentionLayer", "state"),
        ("LinearAttentionAndSlidingWindowAttentionLayer", "window"),
    ):
        cls = getattr(cu, name, None)
        if cls is not None:
            kinds[cls] = kind
    return kinds


def reuse_limit(config: Any) -> int | None:
    """The longest request (context + longest continuation, in tokens) that may read a copied
    cache: ``None`` when any length may, else the smallest sliding window of the model.

    Read from the cache transformers itself would build for ``config`` (no forward), so the
    routing is decided before anything runs. Raises :class:`CannotReuseCache` for layer
    types that cannot be copied (e.g. chunked attention).
    """
    from transformers.cache_utils import DynamicCache, get_layer_types_and_kwargs

    text = config.get_text_config(decoder=True)
    try:
        types, kwargs = get_layer_types_and_kwargs(text)
        cache = DynamicCache(config=config)
    except Exception as exc:  # a config transformers cannot map to cache layers
        raise CannotReuseCache(f"no cache layout for this config ({exc})") from None
    if "chunked_attention" in types:
        raise CannotReuseCache("chunked attention (chunks start at absolute positions)")
    windows = [k["sliding_window"] for k in kwargs if k.get("sliding_window")]
    layers: list[Any] = list(cache.layers)
    windows += [x.sliding_window for x in layers if getattr(x, "is_sliding", False)]
    return min(windows) if windows else None


def check_reusable(cache: Any, limit: int | None) -> None:
    """Refuse a returned cache this module cannot copy, or one whose window is smaller than
    the ``limit`` the requests were routed with."""
    from transformers.cache_utils import DynamicCache

    if isinstance(cache, tuple):
        return
    if type(cache) is not DynamicCache:
        raise CannotReuseCache(f"{type(cache).__name__} is not a plain DynamicCache")
    kinds = _layer_kinds()
    layer: Any
    for layer in cache.layers:
        kind = kinds.get(type(layer))
        if kind is None:
            raise CannotReuseCache(f"{type(layer).__name__} cache layers")
        if kind == "full" and not layer.is_initialized:
            raise CannotReuseCache("an empty full-attention cache layer")
        window = getattr(layer, "sliding_window", None) if kind == "window" else None
        if window is not None and (limit is None or window < limit):
            raise CannotReuseCache(f"a {window}-token sliding window the routing did not expect")


def expand_cache(cache: Any, index: Any, limit: int | None = None) -> Any:
    """A new cache holding rows ``index`` of ``cache``; the original is left untouched.

    ``limit`` is what :func:`reuse_limit` said when the requests were routed:
    a sliding-window layer narrower than that is refused.
    """
    check_reusable(cache, limit)
    if isinstance(cache, tuple):  # legacy per-layer (key, value) tuples
        return tuple((k.index_select(0, index), v.index_select(0, index)) for k, v, *_ in cache)
    expanded = copy.copy(cache)
    expanded.layers = [_copy_layer(layer, index) for layer in cache.layers]
    return expanded


def _copy_layer(layer: Any, index: Any) -> Any:
    """A shallow copy of ``layer`` whose per-row state is re-selected into new tensors.

    Dict attributes (the per-state tensors of linear-attention layers) are copied too, so
    ``reorder_cache``'s item assignment lands in the copy's dict, not the original's.
    """
    clone = copy.copy(layer)
    for name, value in vars(layer).items():
        if isinstance(value, dict):
            setattr(clone, name, dict(value))
    clone.reorder_cache(index)
    return clone
