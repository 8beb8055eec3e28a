"""How many rows a forward may hold, from the memory free now and the model's cost per token.

``--batch-size auto`` takes the largest batch the free memory holds (``auto:MAX``: at
most MAX) and halves it on an out-of-memory exception. Halving alone is enough on a
GPU, where torch raises; on CPU the kernel usually kills the process instead, and
nothing can be halved. So the auto size is first computed here: free memory
(CUDA: ``mem_get_info``; CPU: ``MemAvailable`` of /proc/meminfo, or psutil where
that is missing, and a cgroup's own limit where the process runs in one) times a safety fraction,
divided by what one row of the longest batch costs.

A row's cost is estimated from the model's config, for inference (no
gradients, so only one layer's intermediates live at a time): per token the
residual stream and attention projections (6 x hidden), the MLP (3 x
intermediate), the KV cache of every layer, and the attention scores of one
layer if they are materialised (heads x length); per scored position the
float32 logits, their log-softmax and one temporary (3 x vocabulary x 4 bytes).
The estimate errs high; the halving stays as the second line of defence.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SAFETY_FRACTION = 0.5  # of the memory free when the run starts
AUTO_CEILING = 4096  # rows: past this a batch buys no speed, only a longer wait per batch


def _meminfo_available(path: Path = Path("/proc/meminfo")) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """What the process's cgroup (v2) still allows, if it has a limit."""
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        return None


def available_bytes(device: Any = "cpu") -> int | None:
    """Memory a batch may use on ``device`` right now, or None if it cannot be told."""
    if str(device).startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    found = [v for v in (_meminfo_available(), _cgroup_available()) if v is not None]
    if not found:
        try:
            import psutil

            found.append(int(psutil.virtual_memory().available))
        except ImportError:
            return None
    return min(found)


def row_bytes(config: Any, dtype_bytes: int, tokens: int, scored: int) -> int:
    """Estimated peak bytes of one row of ``tokens`` tokens with ``scored`` read positions."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    hidden = int(getattr(text, "hidden_size", 0) or 0)
    layers = int(getattr(text, "num_hidden_layers", 0) or 0)
    heads = int(getattr(text, "num_attention_heads", 0) or 1)
    kv_heads = int(getattr(text, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(text, "head_dim", None) or (hidden // heads if heads else 0))
    inner = getattr(text, "intermediate_size", None) or getattr(text, "n_inner", None)
    inner = max(inner) if isinstance(inner, (list, tuple)) else int(inner or 4 * hidden)
    vocab = int(getattr(text, "vocab_size", 0) or 0)
    per_token = dtype_bytes * (6 * hidden + 3 * inner + 2 * layers * kv_heads * head_dim)
    per_token += 4 * heads * tokens  # one layer's attention scores, if materialised
    return tokens * per_token + scored * 3 * vocab * 4


def rows_that_fit(
    model: Any, tokens: int, scored: int, fraction: float = SAFETY_FRACTION
) -> int | None:
    """How many rows of ``tokens`` tokens (``scored`` read positions each) fit in ``fraction``
    of the memory free on the model's device; None if the free memory cannot be told."""
    free = available_bytes(getattr(model, "device", "cpu"))
    if free is None:
        return None
    dtype_bytes = next(model.parameters()).element_size()
    cost = max(1, row_bytes(model.config, dtype_bytes, max(1, tokens), max(1, scored)))
    return max(1, int(free * fraction) // cost)


def cap_auto_batch(batcher: Any, model: Any, tokens: int, scored: int) -> None:
    """Size an ``auto`` batcher to what memory allows: ``auto`` takes the largest batch that
    fits (up to ``AUTO_CEILING`` rows), ``auto:MAX`` at most MAX; a fixed size never moves.
    When the free memory cannot be told, the starting size stays and halving guards it."""
    if not batcher.auto:
        return
    fit = rows_that_fit(model, tokens, scored)
    if fit is not None and not getattr(batcher, "bounded", True):
        fit = min(fit, AUTO_CEILING)
        if fit != batcher.size:
            log.info("batch size auto: %d rows of %d tokens fit the free memory", fit, tokens)
            batcher.size = fit
        return
    if fit is not None and fit < batcher.size:
        log.info(
            "batch size auto: %d rows of %d tokens fit the free memory (was %d)",
            fit,
            tokens,
            batcher.size,
        )
        batcher.size = fit
