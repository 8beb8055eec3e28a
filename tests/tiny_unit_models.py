"""Tiny, random, offline pieces of a unit LM: HuBERT, k-means centroids, LMs over units.

The centroids are HuBERT frames of real (espeak) speech picked at even
intervals -- the usual k-means initialisation -- so different audio gives
different unit sequences even from a random HuBERT. Two LMs: a joint
text + unit vocabulary (SpiritLM-like, ``[TEXT]``/``[SPEECH]`` markers, BPE
text) and a unit-only one (TWIST-like, no text at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tiny_models import SPECIAL_TOKENS, make_tokenizer

UNIT_TOKEN = "[Hu{}]"
MARKERS = ("[TEXT]", "[SPEECH]")
LAYER = 1


def make_hubert(directory: str | Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide HuBERT (CNN front end kept at 320x downsampling, 16 channels)."""
    import torch
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    directory = Path(directory)
    config = HubertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
    )
    torch.manual_seed(seed)
    HubertModel(config).save_pretrained(directory, safe_serialization=True)
    Wav2Vec2FeatureExtractor(do_normalize=False, return_attention_mask=False).save_pretrained(
        directory
    )
    return directory


def hubert_frames(hubert_dir: Path, samples: np.ndarray, layer: int = LAYER) -> np.ndarray:
    """``(frames, 32)`` features of one 16 kHz waveform at ``layer`` (reference computation)."""
    import torch
    from transformers import HubertModel

    model = HubertModel.from_pretrained(hubert_dir).eval()
    with torch.no_grad():
        out = model(torch.from_numpy(samples).float()[None], output_hidden_states=True)
    return out.hidden_states[layer][0].numpy()


def make_centroids(path: Path, hubert_dir: Path, waves: Sequence[np.ndarray], k: int) -> Path:
    """``k`` centroids: frames picked evenly from the HuBERT features of ``waves``."""
    frames = np.concatenate([hubert_frames(hubert_dir, w) for w in waves])
    picks = np.linspace(0, len(frames) - 1, k).round().astype(int)
    np.save(path, frames[picks].astype(np.float32))
    return path


def _unit_only_tokenizer(directory: Path, k: int) -> Any:
    """A word-level tokenizer whose whole vocabulary is the specials and the ``k`` units."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate([*SPECIAL_TOKENS.values()])}
    vocab.update({UNIT_TOKEN.format(u): len(SPECIAL_TOKENS) + u for u in range(k)})
    core = Tokenizer(models.WordLevel(vocab, unk_token=SPECIAL_TOKENS["unk_token"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, **SPECIAL_TOKENS)
    tokenizer.save_pretrained(directory)
    return tokenizer


def make_unit_lm(directory: str | Path, k: int, joint: bool, seed: int = 0) -> Path:
    """A tiny GPT-2 over units (``joint``: plus BPE text and the modality markers)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    directory = Path(directory)
    units = [UNIT_TOKEN.format(u) for u in range(k)]
    if joint:
        tokenizer = make_tokenizer(directory, extra_special_tokens=(*MARKERS, *units))
    else:
        tokenizer = _unit_only_tokenizer(directory, k)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=2048,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    GPT2LMHeadModel(config).save_pretrained(directory, safe_serialization=True)
    return directory
