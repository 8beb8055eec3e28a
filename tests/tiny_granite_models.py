"""A tiny, random, offline Granite Speech, optionally with its audio-only LoRA adapter.

Granite Speech is a conformer CTC encoder + windowed Q-Former projector + Granite LM;
``<|audio|>`` expands to one token per projector output. Released checkpoints carry
a LoRA adapter on the LM that their ``generate()`` switches on only when audio is
given, so ``make_granite_speech(..., lora=True)`` saves one (random, non-zero B
matrices, so switching it does change scores) the way the released repositories
do: adapter files beside the base weights, found by ``from_pretrained``.

Its feature extractor computes mel features with torchaudio, and LoRA needs peft:
``ImportError`` naming the missing package otherwise, so the tests skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tiny_zoo_models import TEXT, named_tokenizer

GRANITE_TOKENS = {"audio_token": "<|audio|>"}


def _require(module: str, why: str) -> None:
    import importlib

    try:
        importlib.import_module(module)
    except Exception as exc:  # torchaudio raises OSError when its torch does not match
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportError(f"{why} needs {module}: {reason}") from None


@contextmanager
def installed_peft_accepted() -> Iterator[None]:
    """Inside: transformers' adapter calls accept the peft installed here.

    transformers 5.24 asks for peft >= 0.22.0 in ``add_adapter`` and
    ``enable_adapters``/``disable_adapters``, and the newest peft on PyPI here is
    0.21.2, whose LoRA layers are all these helpers use. Only the version gate is
    lifted, only inside (building the adapter, switching it for hand-built
    references), and only when the installed peft is older than the one asked for;
    everything hf-audio does runs with the gate in place.
    """
    import importlib.metadata

    import transformers.integrations.peft as integration
    from packaging.version import Version

    original = integration.check_peft_version
    if Version(importlib.metadata.version("peft")) < Version(integration.MIN_PEFT_VERSION):
        integration.check_peft_version = lambda min_version: None
    try:
        yield
    finally:
        integration.check_peft_version = original


def switch_adapter(model: Any, on: bool) -> None:
    """transformers' own adapter switch, as Granite's ``generate()`` calls it."""
    with installed_peft_accepted():
        model.enable_adapters() if on else model.disable_adapters()


def granite_speech(tokenizer: Any, has_lora_adapter: bool, seed: int = 0) -> Any:
    """The tiny model itself, random weights from ``seed``."""
    import torch
    from transformers import GraniteSpeechConfig, GraniteSpeechForConditionalGeneration

    config = GraniteSpeechConfig(
        text_config={
            "model_type": "granite",
            "vocab_size": len(tokenizer),
            **TEXT,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "tie_word_embeddings": True,
        },
        encoder_config={
            "num_layers": 2,
            "hidden_dim": 32,
            "num_heads": 2,
            "output_dim": 8,
            "context_size": 20,  # a few attention blocks per test audio, as 200 is per real one
            "max_pos_emb": 64,
            "conv_kernel_size": 5,
        },
        projector_config={
            "model_type": "blip_2_qformer",
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "encoder_hidden_size": 32,
            "cross_attention_frequency": 1,
        },
        audio_token_id=tokenizer.audio_token_id,
        has_lora_adapter=has_lora_adapter,
    )
    torch.manual_seed(seed)
    return GraniteSpeechForConditionalGeneration(config).eval()


def make_granite_speech(directory: str | Path, seed: int = 0, lora: bool = False) -> Path:
    """Save the tiny model and its real processor; with ``lora`` also a LoRA adapter."""
    _require("torchaudio", "its feature extractor")
    if lora:
        _require("peft", "its LoRA adapter")
    import torch
    from transformers import GraniteSpeechFeatureExtractor, GraniteSpeechProcessor

    directory = Path(directory)
    tokenizer = named_tokenizer(directory, GRANITE_TOKENS)
    model = granite_speech(tokenizer, has_lora_adapter=lora, seed=seed)
    model.save_pretrained(directory, safe_serialization=True)  # the base weights, unwrapped
    if lora:
        from peft import LoraConfig
        from transformers import PreTrainedModel

        with installed_peft_accepted():
            model.add_adapter(
                LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
            )
        generator = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if "lora_B" in name:  # peft starts B at zero, which would make the adapter a no-op
                    parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
        model.peft_config["default"].base_model_name_or_path = str(directory)
        # the generic save writes the adapter files only (Granite's own would rewrite the base)
        with installed_peft_accepted():
            PreTrainedModel.save_pretrained(model, str(directory), safe_serialization=True)
    GraniteSpeechProcessor(GraniteSpeechFeatureExtractor(), tokenizer).save_pretrained(directory)
    return directory
