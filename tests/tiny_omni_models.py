"""Tiny, random, offline Qwen-Omni thinkers (Qwen2.5-Omni, Qwen3-Omni-MoE) with processors.

Kept apart from :mod:`tiny_zoo_models` because both share the Omni token set and a
processor (Whisper features + Qwen2-VL image and video processors) whose video half
needs torchvision: without it the builders raise ``ImportError`` and the tests skip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiny_zoo_models import TEXT, named_tokenizer

OMNI_TOKENS = {
    "audio_token": "<|AUDIO|>",
    "audio_bos_token": "<|audio_bos|>",
    "audio_eos_token": "<|audio_eos|>",
    "image_token": "<|IMAGE|>",
    "video_token": "<|VIDEO|>",
    "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
}


def _omni_ids(tokenizer: Any) -> dict[str, int]:
    ids = {key: tokenizer.convert_tokens_to_ids(tok) for key, tok in OMNI_TOKENS.items()}
    return {
        "audio_token_id": ids["audio_token"],
        "image_token_id": ids["image_token"],
        "video_token_id": ids["video_token"],
        "audio_start_token_id": ids["audio_bos_token"],
        "audio_end_token_id": ids["audio_eos_token"],
        "vision_start_token_id": ids["vision_bos_token"],
        "vision_end_token_id": ids["vision_eos_token"],
    }


def _omni_processor(processor_class: Any, tokenizer: Any, mel_bins: int) -> Any:
    from transformers import Qwen2VLImageProcessor, WhisperFeatureExtractor

    try:
        from transformers import Qwen2VLVideoProcessor

        video = Qwen2VLVideoProcessor()
    except ImportError as exc:  # the video processor is torchvision-only
        reason = str(exc).strip().splitlines()[0]
        raise ImportError(f"its processor needs torchvision: {reason}") from None
    return processor_class(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=video,
        feature_extractor=WhisperFeatureExtractor(feature_size=mel_bins),
        tokenizer=tokenizer,
    )


def qwen2_5_omni_thinker(tokenizer: Any, seed: int = 0) -> Any:
    """A random Qwen2.5-Omni thinker (audio tower + mrope text model) over ``tokenizer``."""
    import torch
    from transformers import Qwen2_5OmniThinkerConfig, Qwen2_5OmniThinkerForConditionalGeneration

    ids = _omni_ids(tokenizer)
    config = Qwen2_5OmniThinkerConfig(
        audio_config={
            "num_mel_bins": 128,
            "encoder_layers": 1,
            "encoder_attention_heads": 2,
            "encoder_ffn_dim": 64,
            "d_model": 32,
            "output_dim": 32,
            "n_window": 100,
        },
        vision_config={
            "depth": 1,
            "hidden_size": 32,
            "intermediate_size": 32,
            "num_heads": 2,
            "out_hidden_size": 32,
            "fullatt_block_indexes": [0],
        },
        text_config={
            "vocab_size": len(tokenizer),
            "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3]},
            **TEXT,
        },
        audio_token_index=ids["audio_token_id"],
        image_token_index=ids["image_token_id"],
        video_token_index=ids["video_token_id"],
        audio_start_token_id=ids["audio_start_token_id"],
        audio_end_token_id=ids["audio_end_token_id"],
        vision_start_token_id=ids["vision_start_token_id"],
        vision_end_token_id=ids["vision_end_token_id"],
    )
    torch.manual_seed(seed)
    return Qwen2_5OmniThinkerForConditionalGeneration(config)


def make_qwen2_5_omni_thinker(directory: str | Path, seed: int = 0) -> Path:
    """Save the thinker and its processor (which needs torchvision: ImportError without it)."""
    from transformers import Qwen2_5OmniProcessor

    directory = Path(directory)
    tokenizer = named_tokenizer(directory, OMNI_TOKENS)
    qwen2_5_omni_thinker(tokenizer, seed).save_pretrained(directory, safe_serialization=True)
    _omni_processor(Qwen2_5OmniProcessor, tokenizer, 128).save_pretrained(directory)
    return directory


QWEN3_OMNI_TOKENS = {
    "audio_token": "<|audio_pad|>",
    "audio_bos_token": "<|audio_start|>",
    "audio_eos_token": "<|audio_end|>",
    "image_token": "<|image_pad|>",
    "video_token": "<|video_pad|>",
    "vision_bos_token": "<|vision_start|>",
    "vision_eos_token": "<|vision_end|>",
}


def make_qwen3_omni_moe_thinker(directory: str | Path, seed: int = 0) -> Path:
    """Qwen3-Omni-MoE thinker: chunked conv + transformer audio tower, mrope MoE text model
    (4 tiny experts, 2 per token, so routing is exercised); its processor pads audio features
    to the longest in a call and needs torchvision (ImportError without it)."""
    import torch
    from transformers import (
        Qwen3OmniMoeProcessor,
        Qwen3OmniMoeThinkerConfig,
        Qwen3OmniMoeThinkerForConditionalGeneration,
    )

    directory = Path(directory)
    tokenizer = named_tokenizer(directory, QWEN3_OMNI_TOKENS)
    processor = _omni_processor(Qwen3OmniMoeProcessor, tokenizer, 128)
    ids = {key: tokenizer.convert_tokens_to_ids(tok) for key, tok in QWEN3_OMNI_TOKENS.items()}
    config = Qwen3OmniMoeThinkerConfig(
        audio_config={
            "num_mel_bins": 128,
            "encoder_layers": 1,
            "encoder_attention_heads": 2,
            "encoder_ffn_dim": 64,
            "d_model": 32,
            "output_dim": 32,
            "downsample_hidden_size": 8,
        },
        vision_config={
            "depth": 1,
            "hidden_size": 32,
            "intermediate_size": 32,
            "num_heads": 2,
            "out_hidden_size": 32,
            "deepstack_visual_indexes": [0],
        },
        text_config={
            **TEXT,
            "vocab_size": len(tokenizer),
            "moe_intermediate_size": 16,
            "num_experts": 4,
            "num_experts_per_tok": 2,
            "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3]},
        },
        audio_token_id=ids["audio_token"],
        image_token_id=ids["image_token"],
        video_token_id=ids["video_token"],
        audio_start_token_id=ids["audio_bos_token"],
        vision_start_token_id=ids["vision_bos_token"],  # not a declared field; read by mrope
    )
    torch.manual_seed(seed)
    model = Qwen3OmniMoeThinkerForConditionalGeneration(config)
    # at the default 0.02 init, three stacked convs shrink the features to ~1e-5 next to the
    # tower's sinusoidal positions, so its output would hardly depend on the audio: widen them
    tower = model.model.audio_tower
    with torch.no_grad():
        for layer in (tower.conv2d1, tower.conv2d2, tower.conv2d3, tower.conv_out):
            layer.weight.normal_(0.0, 0.5)
    model.save_pretrained(directory, safe_serialization=True)
    processor.save_pretrained(directory)
    return directory
