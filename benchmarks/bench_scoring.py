"""How much work shared-context scoring saves, side by side, on the same requests.

For each workload the same requests are scored, in one process, by:

* ``reference``: what the reference implementation does -- every (context,
  continuation) pair is its own full sequence, one forward at batch size 1
  (for audio: the processor and the audio encoder run once per pair);
* ``lm-eval``: lm-evaluation-harness ``HFLM.loglikelihood`` on the same model
  object (text workloads only; skipped with the reason if lm_eval is missing);
* ``s2sbench``: ``HFCausalLM`` / ``HFAudioLM`` ``.score`` (context encoded
  once, its KV cache shared by the continuations, length-sorted batches);
* ``s2sbench-full``: the same adapter with ``reuse_context=False`` (batched
  full sequences), to separate what batching gives from what sharing gives.

Methods run interleaved, ``--rounds`` times in a rotating order, so every ratio
is measured under the same machine load; each one's fastest round (the least
disturbed by other jobs) gives the ratios, the median shows the spread. Each
method's per-continuation log-prob sums are compared with the reference's
(largest absolute difference). Models are random, built from configs into a
temporary directory: nothing is downloaded.

    python benchmarks/bench_scoring.py [--size small|gpt2] [--device cpu] [--threads 2]
                                       [--rounds 5] [--batch-size 16] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

Scores = list[list[float]]  # per request, per continuation: log-prob sum in nats

# GPT-2-shaped text models with GPT-2's vocabulary size, so the output layer costs what it costs in
# a real LM (the tiny test tokenizer only ever produces the first ~1200 ids). "small" keeps 3
# rounds of everything to a few minutes on 2 idle CPU threads; "gpt2" is GPT-2 124M's config.
GPT2_VOCAB = 50257
TEXT_SIZES: dict[str, dict[str, int]] = {
    "small": {
        "n_layer": 6,
        "n_embd": 384,
        "n_head": 6,
        "n_positions": 1024,
        "vocab_size": GPT2_VOCAB,
    },
    "gpt2": {
        "n_layer": 12,
        "n_embd": 768,
        "n_head": 12,
        "n_positions": 1024,
        "vocab_size": GPT2_VOCAB,
    },
}
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


def text_requests(task_name: str) -> list[Any]:
    from s2sbench.requests.build import build_requests
    from s2sbench.requests.conditions import Condition
    from s2sbench.requests.prompts import get_template
    from s2sbench.tasks.registry import BUILTIN_TASKS

    task = BUILTIN_TASKS[task_name].load()
    return build_requests(task, Condition.T2T, get_template("reference"))


def audio_requests(task_name: str, audio_dir: Path, limit: int) -> list[Any]:
    """S2T requests over the task's first ``limit`` items, each with a 2-4 s tone as its audio."""
    from tiny_audio_models import write_wav

    from s2sbench.requests.build import build_requests
    from s2sbench.requests.conditions import Condition
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


def continuation_logprob(model: Any, ids: list[int], n_context: int) -> float:
    """One forward over the whole sequence; sum of log p(token) over tokens after the context."""
    import torch

    inputs = torch.tensor([ids], device=model.device)
    logits = model(input_ids=inputs).logits[0, :-1].float()
    logprobs = logits.log_softmax(-1).gather(1, inputs[0, 1:, None])[:, 0]
    return float(logprobs[n_context - 1 :].double().sum())


def reference_text(model: Any, tokenizer: Any, requests: list[Any]) -> Scores:
    """Per pair: tokenize context and context + continuation, one batch-1 forward.

    Token boundaries as lm-eval (and s2sbench) draw them: the context's trailing
    space moves to the continuation, the continuation's tokens are those of the
    whole text beyond the context's; an empty context reads from BOS/EOS.
    """
    import torch

    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    out = []
    with torch.inference_mode():
        for request in requests:
            context = request.text_context.rstrip()
            space = request.text_context[len(context) :]
            sums = []
            for continuation in request.continuations:
                context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
                whole = tokenizer(context + space + continuation, add_special_tokens=False)
                tail = whole["input_ids"][len(context_ids) :]
                head = context_ids or [start]
                sums.append(continuation_logprob(model, head + tail, len(head)))
            out.append(sums)
    return out


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


def lm_eval_runner(model: Any, tokenizer: Any, args: argparse.Namespace) -> Callable | str:
    """A function scoring requests with lm-eval's ``HFLM``, or why there is none."""
    try:
        from lm_eval.api.instance import Instance
        from lm_eval.models.huggingface import HFLM
    except Exception as exc:  # an optional comparison: say why and go on
        return f"lm_eval not importable ({type(exc).__name__}: {exc}); pip install 'lm_eval[hf]'"
    try:
        lm = HFLM(
            pretrained=model, tokenizer=tokenizer, batch_size=args.batch_size, device=args.device
        )
    except Exception as exc:
        return f"HFLM could not be constructed ({type(exc).__name__}: {exc})"

    def run(requests: list[Any]) -> Scores:
        instances = [
            Instance("loglikelihood", doc={}, arguments=(r.text_context, c), idx=k)
            for r in requests
            for k, c in enumerate(r.continuations)
        ]
        flat = iter(lp for lp, _ in lm.loglikelihood(instances, disable_tqdm=True))
        return [[next(flat) for _ in r.continuations] for r in requests]

    return run


def adapter_runner(adapter: Any) -> Callable[[list[Any]], Scores]:
    def run(requests: list[Any]) -> Scores:
        done = dict(adapter.score(requests))
        return [[s.logprob_sum for s in done[i]] for i in range(len(requests))]

    return run


def measure(
    methods: dict[str, Callable[[list[Any]], Scores]], requests: list[Any], rounds: int
) -> dict[str, dict[str, Any]]:
    """Every method ``rounds`` times in a rotating order; best and median wall, best CPU seconds.

    Other jobs on the machine can only add time, so each method's fastest round
    is the least disturbed one and the ratios use it; the median is kept to show
    the spread. CPU seconds (this process, all threads) are printed too: under
    load, wall time also counts waiting for a core.
    """
    names = list(methods)
    times: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    scores: dict[str, Scores] = {}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            scores[name] = methods[name](requests)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
            print(f"  round {r + 1} {name}: {times[name][-1]:.2f} s", flush=True)
    base = scores["reference"]
    return {
        n: {
            "seconds": min(times[n]),
            "median_seconds": statistics.median(times[n]),
            "cpu_seconds": min(cpu[n]),
            "all_seconds": times[n],
            "max_abs_diff": max(abs(a - b) for s, t in zip(scores[n], base) for a, b in zip(s, t)),
        }
        for n in names
    }


def text_workloads(root: Path, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    import torch
    from tiny_models import make_gpt2
    from transformers import AutoModelForCausalLM

    from s2sbench.models.hf_causal import HFCausalLM

    path = make_gpt2(root / "gpt2", seed=0, **TEXT_SIZES[args.size])
    runtime = {"dtype": "float32", "device": args.device, "batch_size": args.batch_size}
    shared = HFCausalLM(pretrained=str(path), **runtime)
    full = HFCausalLM(pretrained=str(path), reuse_context=False, **runtime)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(args.device).eval()
    methods: dict[str, Callable] = {
        "reference": lambda reqs: reference_text(model, shared.tokenizer, reqs)
    }
    lm_eval = lm_eval_runner(model, shared.tokenizer, args)
    if isinstance(lm_eval, str):
        print(f"lm-eval left out: {lm_eval}", flush=True)
    else:
        methods["lm-eval"] = lm_eval
    methods["s2sbench"] = adapter_runner(shared)
    methods["s2sbench-full"] = adapter_runner(full)
    results = {}
    for label, task in (
        ("story pairs (T2T)", "sample_story_en"),
        ("4-option (T2T)", "sample_cmmlu"),
    ):
        requests = text_requests(task)
        print(f"timing {label}: {len(requests)} contexts ...", flush=True)
        results[label] = measure(methods, requests, args.rounds)
    return results


def audio_workload(root: Path, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    import torch

    from s2sbench.models.hf_audio import HFAudioLM

    path = build_qwen2_audio(root / "qwen2_audio", args.size)
    requests = audio_requests("sample_cmmlu", root / "wav", args.audio_items)
    runtime = {"dtype": "float32", "device": args.device, "batch_size": args.batch_size}
    shared = HFAudioLM(pretrained=str(path), **runtime)
    full = HFAudioLM(pretrained=str(path), reuse_context=False, **runtime)
    model = type(shared.model).from_pretrained(path, dtype=torch.float32).to(args.device).eval()
    methods = {
        "reference": lambda reqs: reference_audio(
            model, shared.processor, shared.spec.placeholder, reqs
        ),
        "s2sbench": adapter_runner(shared),
        "s2sbench-full": adapter_runner(full),
    }
    label = "4-option audio (S2T)"
    print(f"timing {label}: {len(requests)} contexts ...", flush=True)
    return {label: measure(methods, requests, args.rounds)}


def print_table(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Best seconds per method and their ratio to s2sbench's (wall, then CPU), median wall."""
    print(
        f"\n{'workload':<22} {'method':<14} {'wall s':>7} {'x ours':>7} {'cpu s':>7} "
        f"{'x ours':>7} {'median s':>8} {'max|dlogp|':>11}"
    )
    for workload, rows in results.items():
        ours = rows["s2sbench"]
        for method, row in rows.items():
            print(
                f"{workload:<22} {method:<14} {row['seconds']:7.2f} "
                f"{row['seconds'] / ours['seconds']:7.2f} {row['cpu_seconds']:7.2f} "
                f"{row['cpu_seconds'] / ours['cpu_seconds']:7.2f} {row['median_seconds']:8.2f} "
                f"{row['max_abs_diff']:11.2e}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(TEXT_SIZES), default="small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16, help="sequences per batch")
    parser.add_argument("--audio-items", type=int, default=40, help="sCMMLU items given audio")
    parser.add_argument("--skip-audio", action="store_true")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} threads, device {args.device}, size "
        f"{args.size}, batch size {args.batch_size}, {args.rounds} rounds, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench_scoring_") as tmp:
        results = text_workloads(Path(tmp), args)
        if not args.skip_audio:
            results.update(audio_workload(Path(tmp), args))
    print_table(results)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "results": results}, indent=2
            )
        )


if __name__ == "__main__":
    main()
