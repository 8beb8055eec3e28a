"""Tiny random causal LMs of every cache layout transformers 5 builds for text models.

Each is a real transformers class built from a config (a few hundred thousand
parameters), saved with the test tokenizer so the ``hf`` adapter loads it
through ``from_pretrained``:

* ``gemma3``: sliding-window + full layers (a hybrid cache), final logit soft-cap;
* ``gemma3n``: the same plus layers that read other layers' keys (``DummyLayer``);
* ``mistral``: every layer sliding;
* ``qwen2``: sliding window on some layers only (``max_window_layers``);
* ``lfm2``: convolution states + full attention (a linear-attention hybrid);
* ``qwen3_next``: gated delta-net linear attention + full attention.

``WINDOW`` is short enough that some test requests fit the window and some do not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tiny_models import make_tokenizer

WINDOW = 20
COMMON = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 512,
}
SLIDING, FULL = "sliding_attention", "full_attention"


def _configs() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """name -> (model class, config class, config arguments)."""
    return {
        "gemma3": (
            "Gemma3ForCausalLM",
            "Gemma3TextConfig",
            {
                "num_hidden_layers": 4,
                "head_dim": 16,
                "sliding_window": WINDOW,
                "layer_types": [SLIDING, SLIDING, FULL, SLIDING],
                "final_logit_softcapping": 30.0,
            },
        ),
        "gemma3n": (
            "Gemma3nForCausalLM",
            "Gemma3nTextConfig",
            {
                "num_hidden_layers": 4,
                "head_dim": 16,
                "sliding_window": WINDOW,
                "layer_types": [SLIDING, FULL, SLIDING, FULL],
                "num_kv_shared_layers": 2,
                "laurel_rank": 4,
                "hidden_size_per_layer_input": 8,
                "altup_num_inputs": 2,
                "activation_sparsity_pattern": [0.0] * 4,
            },
        ),
        "mistral": (
            "MistralForCausalLM",
            "MistralConfig",
            {"num_hidden_layers": 2, "sliding_window": WINDOW},
        ),
        "qwen2": (
            "Qwen2ForCausalLM",
            "Qwen2Config",
            {
                "num_hidden_layers": 3,
                "use_sliding_window": True,
                "sliding_window": WINDOW,
                "max_window_layers": 1,
            },
        ),
        "lfm2": (
            "Lfm2ForCausalLM",
            "Lfm2Config",
            {"num_hidden_layers": 3, "layer_types": ["conv", FULL, "conv"]},
        ),
        "qwen3_next": (
            "Qwen3NextForCausalLM",
            "Qwen3NextConfig",
            {
                "num_hidden_layers": 2,
                "layer_types": ["linear_attention", FULL],
                "head_dim": 16,
                "linear_num_value_heads": 2,
                "linear_num_key_heads": 2,
                "linear_key_head_dim": 16,
                "linear_value_head_dim": 16,
                "num_experts": 2,
                "num_experts_per_tok": 1,
                "moe_intermediate_size": 32,
                "shared_expert_intermediate_size": 32,
            },
        ),
    }


ARCHITECTURES = tuple(_configs())


def make_window_model(name: str, directory: str | Path, seed: int = 0) -> Path:
    """Save the tiny ``name`` model (see the module docstring) and its tokenizer."""
    import torch
    import transformers

    model_class, config_class, settings = _configs()[name]
    directory = Path(directory)
    tokenizer = make_tokenizer(directory)
    extra: dict[str, Any] = {}
    if name == "gemma3n":  # its per-layer input embedding has its own vocabulary size
        extra["vocab_size_per_layer_input"] = len(tokenizer)
    config = getattr(transformers, config_class)(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **COMMON,
        **settings,
        **extra,
    )
    torch.manual_seed(seed)
    getattr(transformers, model_class)(config).save_pretrained(directory)
    return directory


def window_model_factory(tmp_path_factory: Any) -> Callable[[str], Path]:
    """A per-session builder: each architecture is built once."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = make_window_model(name, tmp_path_factory.mktemp(name))
        return built[name]

    return get
