"""A tiny random GGUF file written offline, so the GGUF path is tested in seconds.

``make_qwen2_gguf`` builds a two-layer Qwen2 of a few thousand parameters with the tiny
byte-level BPE of :mod:`tiny_models` and writes it with the ``gguf`` package's own writer
(float32 tensors, the BPE's vocabulary, token types and merges as ``tokenizer.ggml.*``).
transformers reads it back with ``from_pretrained(dir, gguf_file=name)`` to the same
logits and token ids, exactly as it reads a real quantized GGUF (dequantized to float32).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tiny_models import make_tokenizer


def make_qwen2_gguf(directory: str | Path, seed: int = 0, name: str = "tiny.gguf") -> Path:
    """Write ``directory/name`` (and the source checkpoint in ``directory/source``)."""
    import gguf
    import numpy as np
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    directory = Path(directory)
    tokenizer = make_tokenizer(directory / "source")
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=256,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    model.save_pretrained(directory / "source", safe_serialization=True)
    writer = gguf.GGUFWriter(str(directory / name), "qwen2")
    _write_hparams(writer, config)
    _write_tokenizer(writer, tokenizer, directory / "source" / "tokenizer.json")
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, config.num_hidden_layers)
    for key, tensor in model.state_dict().items():
        writer.add_tensor(
            names.get_name(key, try_suffixes=(".weight", ".bias")),
            tensor.detach().numpy().astype(np.float32),
        )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return directory / name


def _write_hparams(writer: Any, config: Any) -> None:
    import gguf

    writer.add_name("tiny-qwen2")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(float(config.rope_parameters["rope_theta"]))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)


def _write_tokenizer(writer: Any, tokenizer: Any, tokenizer_json: Path) -> None:
    import gguf

    tokens = [""] * len(tokenizer)
    for token, index in tokenizer.get_vocab().items():
        tokens[index] = token
    special = set(tokenizer.all_special_ids)
    merges = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["merges"]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(
        [
            gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL
            for i in range(len(tokens))
        ]
    )
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    writer.add_bos_token_id(tokenizer.bos_token_id)
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_pad_token_id(tokenizer.pad_token_id)
    writer.add_add_bos_token(False)
