"""Tiny, random, offline audio models for tests: Whisper (ASR) and Qwen2-Audio (audio LLM).

Like ``tiny_models``, nothing is downloaded: configs of a few hundred
thousand parameters are built, saved with ``save_pretrained`` and loaded back
by the adapters through their real ``from_pretrained`` path. Also writes the
short WAV files the audio tests feed them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from tiny_models import make_tokenizer, training_corpus

QWEN2_AUDIO_TOKENS = ("<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")
WHISPER_LANGS = ("en", "zh")
WHISPER_SPECIALS = (
    "<|endoftext|>",
    "<|startoftranscript|>",
    *(f"<|{lang}|>" for lang in WHISPER_LANGS),
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
)


def write_wav(
    path: str | Path, seconds: float, rate: int = 16000, freq: float = 220.0, seed: int = 0
) -> Path:
    """A tone plus a little noise: distinct (freq, seed) give distinct audio."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    samples = 0.3 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(t.shape)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples.astype(np.float32), rate)
    return path


def _whisper_tokenizer(directory: Path) -> Any:
    """A ``WhisperTokenizer`` over a small BPE trained here, with Whisper's special tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import WhisperTokenizer

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(training_corpus(), trainer=trainer)
    model_json = json.loads(core.to_str())["model"]
    merges = [
        tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model_json["merges"]
    ]
    tokenizer = WhisperTokenizer(vocab=model_json["vocab"], merges=merges)
    tokenizer.add_special_tokens({"additional_special_tokens": list(WHISPER_SPECIALS[1:])})
    tokenizer.save_pretrained(directory)
    return tokenizer


def make_whisper(directory: str | Path, seed: int = 0) -> Path:
    """Save a tiny random Whisper with processor and a multilingual generation config."""
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _whisper_tokenizer(directory)
    ids = {tok: tokenizer.convert_tokens_to_ids(tok) for tok in WHISPER_SPECIALS}
    eot = ids["<|endoftext|>"]
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_source_positions=1500,
        max_target_positions=48,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=ids["<|startoftranscript|>"],
        begin_suppress_tokens=None,  # the defaults name ids of the real 51k vocabulary
        suppress_tokens=None,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"],
        eos_token_id=eot,
        pad_token_id=eot,
        bos_token_id=eot,
        max_length=24,
        is_multilingual=True,
        lang_to_id={f"<|{lang}|>": ids[f"<|{lang}|>"] for lang in WHISPER_LANGS},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"],
    )
    model.save_pretrained(directory, safe_serialization=True)
    processor = WhisperProcessor(WhisperFeatureExtractor(), tokenizer)
    processor.save_pretrained(directory)
    return directory


def make_qwen2_audio(directory: str | Path, seed: int = 0) -> Path:
    """Save a tiny random Qwen2-Audio with its processor (128 mel bins, audio tokens added)."""
    import torch
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioEncoderConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        Qwen2Config,
        WhisperFeatureExtractor,
    )

    directory = Path(directory)
    tokenizer = make_tokenizer(directory, extra_special_tokens=QWEN2_AUDIO_TOKENS)
    audio_config = Qwen2AudioEncoderConfig(
        num_mel_bins=128,
        encoder_layers=1,
        encoder_attention_heads=2,
        encoder_ffn_dim=64,
        d_model=32,
        max_source_positions=1500,
    )
    text_config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = Qwen2AudioConfig(
        audio_config=audio_config,
        text_config=text_config,
        audio_token_id=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(seed)
    model = Qwen2AudioForConditionalGeneration(config)
    model.save_pretrained(directory, safe_serialization=True)
    processor = Qwen2AudioProcessor(WhisperFeatureExtractor(feature_size=128), tokenizer)
    processor.save_pretrained(directory)
    return directory
