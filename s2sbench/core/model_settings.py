"""What a ``transformers`` model runs as: its dtype, its device, its longest input.

Parsed from what a user writes (``bf16``, ``cuda:1``) and resolved against the
checkpoint's config, so the loaders (:mod:`s2sbench.core.hf_loading`) and the adapters'
fingerprints name the same dtype and refuse the same devices. torch is imported inside
the functions: importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any

from s2sbench.core.errors import ModelError

DTYPES = {
    **dict.fromkeys(("float32", "fp32", "float"), "float32"),
    **dict.fromkeys(("bfloat16", "bf16"), "bfloat16"),
    **dict.fromkeys(("float16", "fp16", "half"), "float16"),
}
MAX_LENGTH_KEYS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")


def parse_dtype(name: Any) -> Any:
    """``"float32"``/``"bfloat16"``/``"float16"`` -> torch dtype; ``"auto"``/None -> ``"auto"``."""
    import torch

    if name is None or name == "auto":
        return "auto"
    if isinstance(name, torch.dtype):
        return name
    canonical = DTYPES.get(str(name).lower().removeprefix("torch."))
    if canonical is None:
        raise ModelError(f"unknown dtype '{name}'", hint="use float32, bfloat16, float16 or auto")
    return getattr(torch, canonical)


def pick_device(device: str | None) -> str:
    """``None`` -> the first GPU if there is one, else CPU; checks an explicit choice exists."""
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    text = str(device).lower()
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(
                f"device '{device}' asked for, but CUDA is not available here",
                hint="use device=cpu or run on a machine with a GPU",
            )
        _, _, index = text.partition(":")
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise ModelError(
                f"device '{device}' does not exist",
                hint=f"this machine has {torch.cuda.device_count()} GPU(s)",
            )
        return text
    if text in ("cpu", "mps"):
        return text
    raise ModelError(f"unknown device '{device}'", hint="use cpu, cuda or cuda:N")


def dtype_name(dtype: Any, config: Any) -> str:
    """The dtype the weights will have: the one asked for, or the config's for ``auto``."""
    parsed = parse_dtype(dtype)
    if parsed == "auto":
        text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
        parsed = getattr(text_config, "dtype", None) or getattr(config, "dtype", None)
        parsed = parsed or getattr(config, "torch_dtype", None) or "float32"
    return str(parsed).removeprefix("torch.")


def model_max_length(model: Any, tokenizer: Any = None) -> int | None:
    """The longest input the model was built for: its config, else its tokenizer, else None."""
    config = getattr(model, "config", None)
    text_config = config
    if config is not None and hasattr(config, "get_text_config"):
        text_config = config.get_text_config()
    for key in MAX_LENGTH_KEYS:
        value = getattr(text_config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 10**9 else None  # 1e30 means unset
