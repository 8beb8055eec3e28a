"""Tiny, random, offline audio LLMs of the native transformers families, with processors.

Each ``make_*`` saves a model of a few hundred thousand parameters and the
family's real processor class (tokenizer from ``tiny_models.make_tokenizer``
plus the family's named special tokens, feature extractor from defaults) so
:class:`HFAudioLM` loads them through ``from_pretrained`` exactly as it loads
real checkpoints. Families whose processor needs a package this machine may
lack (torchvision for the Phi-4 image processor, timm for the Gemma 3n vision tower)
raise ``ImportError`` so the tests skip them with that reason. The Qwen-Omni thinkers
live in :mod:`tiny_omni_models`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiny_models import make_tokenizer

TEXT = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "max_position_embeddings": 4096,
}


def named_tokenizer(directory: Path, named: dict[str, str], extra: tuple[str, ...] = ()) -> Any:
    """The tiny BPE with ``named`` special tokens reachable as attributes (``tok.audio_token``)."""
    from transformers import AutoTokenizer

    make_tokenizer(directory, extra_special_tokens=(*named.values(), *extra))
    tokenizer = AutoTokenizer.from_pretrained(directory, extra_special_tokens=named)
    tokenizer.save_pretrained(directory)
    return tokenizer


def _save(model: Any, processor: Any, directory: Path) -> Path:
    model.save_pretrained(directory, safe_serialization=True)
    processor.save_pretrained(directory)
    return directory


def make_audio_flamingo3(directory: str | Path, seed: int = 0) -> Path:
    """Audio Flamingo 3: Whisper-style encoder + Qwen2 LM; ``<sound>`` expands per frame."""
    import torch
    from transformers import (
        AudioFlamingo3Config,
        AudioFlamingo3ForConditionalGeneration,
        AudioFlamingo3Processor,
        WhisperFeatureExtractor,
    )

    directory = Path(directory)
    tokenizer = named_tokenizer(directory, {"audio_token": "<sound>"})
    config = AudioFlamingo3Config(
        audio_config={
            "num_mel_bins": 128,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "hidden_size": 32,
        },
        text_config={"model_type": "qwen2", "vocab_size": len(tokenizer), **TEXT},
        audio_token_id=tokenizer.convert_tokens_to_ids("<sound>"),
    )
    torch.manual_seed(seed)
    model = AudioFlamingo3ForConditionalGeneration(config)
    processor = AudioFlamingo3Processor(WhisperFeatureExtractor(feature_size=128), tokenizer)
    return _save(model, processor, directory)


PHI4_TOKENS = {"audio_token": "<|endoftext11|>", "image_token": "<|endoftext10|>"}


def make_phi4_multimodal(directory: str | Path, seed: int = 0) -> Path:
    """Phi-4-multimodal: conformer speech encoder + Phi-3 LM; ``<|endoftext11|>`` expands per
    encoder frame. Its processor needs the torchvision image processor: ImportError without."""
    import torch
    from transformers import (
        Phi4MultimodalConfig,
        Phi4MultimodalFeatureExtractor,
        Phi4MultimodalForCausalLM,
        Phi4MultimodalProcessor,
    )

    try:
        from transformers import Phi4MultimodalImageProcessor

        images = Phi4MultimodalImageProcessor()
    except ImportError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise ImportError(f"its processor needs torchvision: {reason}") from None
    directory = Path(directory)
    tokenizer = named_tokenizer(directory, PHI4_TOKENS)
    config = Phi4MultimodalConfig(
        vocab_size=len(tokenizer),
        **TEXT,
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_token_id": tokenizer.image_token_id,
        },
        audio_config={
            "hidden_size": 32,
            "intermediate_size": 32,
            "num_blocks": 2,
            "num_attention_heads": 2,
            "ext_pw_out_channel": 32,
            "depthwise_separable_out_channel": 32,
            "nemo_conv_channels": 32,
            "audio_token_id": tokenizer.audio_token_id,
        },
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Phi4MultimodalForCausalLM(config)
    processor = Phi4MultimodalProcessor(images, Phi4MultimodalFeatureExtractor(), tokenizer)
    return _save(model, processor, directory)


GEMMA3N_TOKENS = {
    "audio_token": "<audio_soft_token>",
    "boa_token": "<start_of_audio>",
    "eoa_token": "<end_of_audio>",
    "image_token": "<image_soft_token>",
    "boi_token": "<start_of_image>",
    "eoi_token": "<end_of_image>",
}


def make_gemma3n(directory: str | Path, seed: int = 0) -> Path:
    """Gemma 3n: USM-style conformer audio tower + AltUp/per-layer-input LM with logit
    soft-capping; the processor writes 188 audio tokens per audio. Text ids come first, then
    a 4-id vision and a 4-id audio range (as the real vocabulary orders them). The vision tower
    is a timm model (timm's own tiny test network here): ImportError without timm."""
    import torch

    try:
        import timm  # noqa: F401  (the vision tower is built by timm)
    except ImportError as exc:
        raise ImportError(f"its vision tower needs timm: {exc}") from None
    from transformers import (
        Gemma3nAudioFeatureExtractor,
        Gemma3nConfig,
        Gemma3nForConditionalGeneration,
        Gemma3nProcessor,
        SiglipImageProcessor,
    )

    directory = Path(directory)
    tokenizer = named_tokenizer(directory, GEMMA3N_TOKENS)
    ids = {key: tokenizer.convert_tokens_to_ids(tok) for key, tok in GEMMA3N_TOKENS.items()}
    text = len(tokenizer)
    config = Gemma3nConfig(
        text_config={
            **TEXT,
            "vocab_size": text + 8,
            "vocab_size_per_layer_input": text,
            "head_dim": 16,
            "hidden_size_per_layer_input": 8,
            "laurel_rank": 4,
            "altup_num_inputs": 2,
            "num_kv_shared_layers": 0,
            "layer_types": ["sliding_attention", "full_attention"],
            "sliding_window": 64,
            "final_logit_softcapping": 2.0,  # low, so that a score missing the cap fails (a)
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        },
        vision_config={
            "architecture": "test_efficientnet",
            "hidden_size": 256,
            "vocab_size": 4,
            "vocab_offset": text,
        },
        audio_config={
            "vocab_size": 4,
            "vocab_offset": text + 4,
            "hidden_size": 32,
            "conf_num_attention_heads": 2,
            "conf_num_hidden_layers": 2,
            "sscp_conv_channel_size": [8, 4],
        },
        **{f"{key}_id": value for key, value in ids.items()},
    )
    torch.manual_seed(seed)
    model = Gemma3nForConditionalGeneration(config)
    processor = Gemma3nProcessor(Gemma3nAudioFeatureExtractor(), SiglipImageProcessor(), tokenizer)
    return _save(model, processor, directory)


def make_voxtral(directory: str | Path, seed: int = 0) -> Path:
    """Voxtral: Whisper-style encoder (30 s windows of 1500 frames) + Llama LM. The audio
    hidden/intermediate ratio is the released one (1:4), so one window is 375 audio tokens,
    as mistral-common counts them. The processor wraps the tiny BPE (the released checkpoints
    use a mistral-common Tekken tokenizer), which is all the adapter reads from it."""
    import torch
    from transformers import (
        VoxtralConfig,
        VoxtralForConditionalGeneration,
        VoxtralProcessor,
        WhisperFeatureExtractor,
    )

    directory = Path(directory)
    tokenizer = named_tokenizer(directory, {"audio_token": "[AUDIO]"}, ("[BEGIN_AUDIO]",))
    config = VoxtralConfig(
        audio_config={
            "hidden_size": 16,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_mel_bins": 128,
        },
        text_config={"model_type": "llama", "vocab_size": len(tokenizer), **TEXT, "head_dim": 16},
        audio_token_id=tokenizer.audio_token_id,
    )
    torch.manual_seed(seed)
    model = VoxtralForConditionalGeneration(config)
    processor = VoxtralProcessor(WhisperFeatureExtractor(feature_size=128), tokenizer)
    return _save(model, processor, directory)
