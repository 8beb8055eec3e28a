"""The S2T audio workload of ``bench_scoring.py``: a random Qwen2-Audio on synthetic WAVs.

``reference`` there is what the reference implementation does for audio: the
processor and the audio encoder run once per (context, continuation) pair.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from scoring_methods import Scores, adapter_runner

# Qwen2-Audio: (audio encoder d_model, encoder layers, text hidden size, text layers).
AUDIO_SIZES: dict[str, tuple[int, int, int, int]] = {
    "small": (64, 2, 256, 4),
    "gpt2": (384, 4, 768, 12),
}


def build_qwen2_audio(directory: Path, size: str) -> Path:
    """A random Qwen2-Audio like ``tests/tiny_audio_models.make_qwen2_audio``, at ``size``."""
    import torch
    from tiny_audio_models import QWEN2_AUDIO_TOKENS
    from tiny_models import make_tokenizer
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioEncoderConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        Qwen2Config,
        WhisperFeatureExtractor,
    )

    audio_dim, audio_layers, text_dim, text_layers = AUDIO_SIZES[size]
    tokenizer = make_tokenizer(directory, extra_special_tokens=QWEN2_AUDIO_TOKENS)
    config = Qwen2AudioConfig(
        audio_config=Qwen2AudioEncoderConfig(
            num_mel_bins=128,
            encoder_layers=audio_layers,
            encoder_attention_heads=4,
            encoder_ffn_dim=4 * audio_dim,
            d_model=audio_dim,
            max_source_positions=1500,
        ),
        text_config=Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=text_dim,
            intermediate_size=4 * text_dim,
            num_hidden_layers=text_layers,
            num_attention_heads=8,
            num_key_value_heads=2,
            max_position_embeddings=2048,
            pad_token_id=tokenizer.pad_token_id,
        ),
        audio_token_id=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(0)
    Qwen2AudioForConditionalGeneration(config).save_pretrained(directory)
    Qwen2AudioProcessor(WhisperFeatureExtractor(feature_size=128), tokenizer).save_pretrained(
        directory
    )
    return directory


def audio_requests(task_name: str, audio_dir: Path, limit: int) -> list[Any]:
    """S2T requests over the task's first ``limit`` items, each with a 2-4 s tone as its audio."""
    from tiny_audio_models import write_wav

    from s2sbench.core.conditions import Condition
    from s2sbench.requests.build import build_requests
    from s2sbench.requests.prompts import get_template
    from s2sbench.tasks.registry import BUILTIN_TASKS

    task = BUILTIN_TASKS[task_name].load()
    items = tuple(
        dataclasses.replace(
            item,
            context_audio=write_wav(
                audio_dir / f"{i}.wav", 2.0 + (i % 5) / 2, freq=200 + 10 * i, seed=i
            ),
        )
        for i, item in enumerate(task.items[:limit])
    )
    task = dataclasses.replace(task, items=items)
    return build_requests(task, Condition.S2T, get_template("reference"))


def reference_audio(model: Any, processor: Any, placeholder: str, requests: list[Any]) -> Scores:
    """Per pair: read the audio, run the processor on prefix + audio + continuation, one forward."""
    import soundfile as sf
    import torch

    out = []
    with torch.inference_mode():
        for request in requests:
            sums = []
            for continuation in request.continuations:
                samples, rate = sf.read(str(request.context_audio), dtype="float32")
                inputs = processor(
                    text=[request.prefix + placeholder + continuation],
                    audio=[samples],
                    sampling_rate=rate,
                    return_tensors="pt",
                ).to(model.device)
                tail = processor.tokenizer(continuation, add_special_tokens=False)["input_ids"]
                ids = inputs["input_ids"][0]
                if ids[-len(tail) :].tolist() != tail:
                    raise RuntimeError(f"item {request.item_id}: continuation tokens moved")
                logits = model(**inputs).logits[0, :-1].float()
                logprobs = logits.log_softmax(-1).gather(1, ids[1:, None])[:, 0]
                sums.append(float(logprobs[-len(tail) :].double().sum()))
            out.append(sums)
    return out


def audio_workload(root: Path, args: argparse.Namespace, measure: Any) -> dict[str, dict[str, Any]]:
    """Reference vs s2sbench (shared context, and full sequences) on S2T sCMMLU-style items."""
    from s2sbench.models.hf_audio import HFAudioLM

    path = build_qwen2_audio(root / "qwen2_audio", args.size)
    requests = audio_requests("sample_cmmlu", root / "wav", args.audio_items)
    runtime = {"dtype": "float32", "device": args.device, "batch_size": args.batch_size}
    shared = HFAudioLM(pretrained=str(path), **runtime)
    full = HFAudioLM(pretrained=str(path), reuse_context=False, **runtime)
    model = shared.model  # the reference reads the same weights object
    methods = {
        "reference": lambda reqs: reference_audio(
            model, shared.processor, shared.spec.placeholder, reqs
        ),
        "s2sbench": adapter_runner(shared),
        "s2sbench-full": adapter_runner(full),
    }
    label = "random Qwen2-Audio, 4-option S2T"
    print(f"timing {label}: {len(requests)} contexts ...", flush=True)
    return {label: measure(methods, requests, args.rounds, baseline="reference")}
