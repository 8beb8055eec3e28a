"""Tiny, random, offline models for tests: built from configs, saved, loaded for real.

Nothing here downloads anything. ``make_tokenizer`` trains a byte-level BPE in
memory on a small English + Chinese corpus that includes the text of the
built-in sample tasks, so both languages tokenize into a mix of merges and raw
bytes, as a real tokenizer would. ``make_gpt2`` saves a randomly initialised
GPT-2 of a few hundred thousand parameters (fixed seed, safetensors) with that
tokenizer, so adapters exercise the real ``from_pretrained`` code path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "s2sbench" / "tasks" / "samples"

SPECIAL_TOKENS = {
    "bos_token": "<bos>",
    "eos_token": "<eos>",
    "pad_token": "<pad>",
    "unk_token": "<unk>",
}

BUILTIN_CORPUS = (
    "The cat sat on the mat and looked out of the window.",
    "She went to the market to buy some bread, milk and apples.",
    "After the rain stopped, the children ran outside to play.",
    "He was happy because he finally finished his homework.",
    "Tom forgot his keys, so he had to wait for his sister to come home.",
    "The weather was cold, but they still went for a long walk in the park.",
    "Paris is the capital of France. Water boils at one hundred degrees.",
    "小明今天早上去学校上课，老师表扬了他。",
    "天气很冷，但是他们还是去公园散步了。",
    "北京是中国的首都。水在一百度的时候会沸腾。",
    "她去超市买了面包、牛奶和苹果，然后回家做饭。",
)


def _sample_texts() -> Iterator[str]:
    """Every string value of the built-in sample tasks (their characters must tokenize)."""
    for path in sorted(SAMPLES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                for value in json.loads(line).values():
                    if isinstance(value, str):
                        yield value


def training_corpus() -> list[str]:
    """The built-in sentences followed by the sample tasks' text, in a fixed order."""
    return [*BUILTIN_CORPUS, *_sample_texts()]


def make_tokenizer(
    directory: str | Path,
    extra_special_tokens: Iterable[str] = (),
    vocab_size: int = 1200,
) -> Any:
    """Train a byte-level BPE in memory, wrap it, save it to ``directory`` and return it.

    Byte-level means any Unicode text tokenizes (unknown characters fall back
    to their UTF-8 bytes); ``extra_special_tokens`` (e.g. an audio placeholder)
    are added as single, never-split tokens.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    extra = list(extra_special_tokens)
    core = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[*SPECIAL_TOKENS.values(), *extra],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(training_corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, **SPECIAL_TOKENS)
    if extra:
        tokenizer.add_special_tokens({"additional_special_tokens": extra})
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(directory)
    return tokenizer


def make_gpt2(directory: str | Path, seed: int = 0, **config_overrides: Any) -> Path:
    """Save a tiny random GPT-2 (safetensors) and its tokenizer to ``directory``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    directory = Path(directory)
    tokenizer = make_tokenizer(directory)
    settings: dict[str, Any] = {
        "vocab_size": len(tokenizer),
        "n_positions": 512,
        "n_embd": 64,
        "n_layer": 2,
        "n_head": 2,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    settings.update(config_overrides)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(**settings))
    model.save_pretrained(directory, safe_serialization=True)
    return directory
