"""Scoring speed side by side: s2sbench next to lm-eval, the reference and the limit.

For each model and workload the same requests are scored, in one process, on
the same model object, by (see scoring_methods.py):

* ``reference``: every (context, continuation) pair its own sequence, batch 1;
* ``lm-eval``: lm-evaluation-harness ``HFLM.loglikelihood`` (left out, with the
  reason, if lm_eval cannot be imported);
* ``s2sbench``: the ``hf`` adapter's ``score`` (each context once, its KV cache
  shared by its continuations, logits only where they are read);
* ``s2sbench-full``: the same adapter with ``reuse_context=false``;
* ``limit``: the cost floor: the network body once over the unique tokens and
  the output layer over the scored positions only.

Models: real Gemma 3 270M (``--gemma``: by default ``bundled:gemma3-270m``, the
``weights`` extra's GGUF; or a GGUF file or transformers folder; it reads its ``<bos>``
as lm-eval reads it), and random GPT-2-shaped models (``--size``) kept for comparison.
Methods run interleaved (measure.py); ratios use each method's fastest round.
The last table is Markdown, ready for the README.

    python benchmarks/bench_scoring.py [--models gemma,gpt2] [--gemma SOURCE] [--size small|gpt2]
        [--tasks story,cmmlu] [--methods ...] [--device cpu] [--threads 2] [--rounds 3]
        [--batch-size 16] [--audio] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from measure import measure  # noqa: E402
from scoring_methods import (  # noqa: E402
    adapter_runner,
    limit_runner,
    lm_eval_runner,
    reference_text,
)

# GPT-2-shaped random models with GPT-2's vocabulary size, so the output layer costs what it costs
# in a real LM of that shape (the tiny test tokenizer only ever produces the first ~1200 ids).
GPT2_VOCAB = 50257
TEXT_SIZES: dict[str, dict[str, int]] = {
    "small": {"n_layer": 6, "n_embd": 384, "n_head": 6, "n_positions": 1024},
    "gpt2": {"n_layer": 12, "n_embd": 768, "n_head": 12, "n_positions": 1024},
}
TASKS = {"story": ("story pairs", "sample_story_en"), "cmmlu": ("4-option", "sample_cmmlu")}
METHODS = ("reference", "lm-eval", "s2sbench", "s2sbench-full", "limit")


def text_requests(task_name: str, items: int | None = None) -> list[Any]:
    from s2sbench.core.conditions import Condition
    from s2sbench.requests.build import build_requests
    from s2sbench.requests.prompts import get_template
    from s2sbench.tasks.registry import BUILTIN_TASKS

    task = BUILTIN_TASKS[task_name].load().limited(items)
    return build_requests(task, Condition.T2T, get_template("reference"))


def text_models(root: Path, args: argparse.Namespace) -> list[tuple[str, str, dict[str, Any]]]:
    """``(label, path, adapter args)`` per model asked for; a missing Gemma is said, not fatal."""
    from tiny_models import make_gpt2

    out = []
    for name in args.models.split(","):
        if name == "gemma":
            source = args.gemma or "bundled:gemma3-270m"
            local = Path(source)
            usable = (local / "config.json").exists() or local.suffix == ".gguf"
            if not source.startswith("bundled:") and not usable:
                print(f"Gemma 3 270M left out: no transformers folder or GGUF at {source}")
                continue
            out.append(("Gemma 3 270M", source, {}))
        elif name == "gpt2":
            config = {**TEXT_SIZES[args.size], "vocab_size": GPT2_VOCAB}
            path = make_gpt2(root / f"gpt2-{args.size}", seed=0, **config)
            shape = f"{config['n_layer']}x{config['n_embd']}"
            out.append((f"random GPT-2 {shape}", str(path), {}))
        else:
            raise SystemExit(f"unknown model '{name}': use gemma and/or gpt2")
    return out


def text_methods(path: str, extra: dict[str, Any], args: argparse.Namespace) -> dict[str, Callable]:
    """Every method over ONE model object: the adapters share the weights the others use."""
    from s2sbench.models.hf_causal import HFCausalLM

    runtime = {"dtype": "float32", "device": args.device, "batch_size": args.batch_size, **extra}
    shared = HFCausalLM(pretrained=path, **runtime)
    full = HFCausalLM(pretrained=path, reuse_context=False, **runtime)
    model = shared.model.eval()
    full.weights._model = model  # the same object, not a second copy of the weights
    methods: dict[str, Callable] = {"reference": reference_text(model, shared)}
    lm_eval = lm_eval_runner(model, shared.tokenizer, args)
    if isinstance(lm_eval, str):
        print(f"lm-eval left out: {lm_eval}", flush=True)
    else:
        methods["lm-eval"] = lm_eval
    methods["s2sbench"] = adapter_runner(shared)
    methods["s2sbench-full"] = adapter_runner(full)
    methods["limit"] = limit_runner(model, shared, args.batch_size)
    wanted = args.methods.split(",")
    return {name: run for name, run in methods.items() if name in wanted}


LIMIT = "the limit's time"


def ratio(rows: dict[str, dict[str, Any]], num: str, den: str, clock: str, what: str) -> str:
    """``num``'s time over ``den``'s, as ``2.50x <what>``; "n/a" when one was not measured."""
    if num not in rows or den not in rows:
        return "n/a"
    return f"{rows[num][clock] / rows[den][clock]:.2f}x {what}"


def print_tables(results: dict[str, dict[str, dict[str, Any]]], clock: str) -> None:
    """Per method: fastest wall and CPU seconds, ratio to s2sbench, peak memory, diffs; then
    the ratios as a Markdown table (``clock``: the seconds the ratios use)."""
    print(
        f"\n{'workload':<38} {'method':<14} {'wall s':>7} {'cpu s':>7} {'x ours':>7} "
        f"{'median':>7} {'peak MiB':>8}  max|dlogp| vs"
    )
    for workload, rows in results.items():
        ours = rows.get("s2sbench")
        for method, row in rows.items():
            diffs = ", ".join(f"{k} {v:.1e}" for k, v in row["max_abs_diff"].items())
            rel = f"{row[clock] / ours[clock]:7.2f}" if ours else "    n/a"
            print(
                f"{workload:<38} {method:<14} {row['seconds']:7.2f} {row['cpu_seconds']:7.2f} "
                f"{rel} {row['median_seconds']:7.2f} {row['peak_mib']:8.0f}  {diffs}"
            )
    print(f"\nMarkdown ({'wall-clock' if clock == 'seconds' else 'CPU'} seconds, fastest round):\n")
    print(
        "| model, workload | vs lm-eval `HFLM` | vs per-candidate (reference) | vs the limit "
        "| peak MiB s2sbench / lm-eval | max abs diff vs full sequences / lm-eval |"
    )
    print("|---|---|---|---|---|---|")
    for workload, rows in results.items():
        ours = rows.get("s2sbench", {})
        diff = ours.get("max_abs_diff", {})
        full_diff = max(
            (diff[k] for k in ("reference", "s2sbench-full") if k in diff), default=None
        )
        fmt = lambda v: "n/a" if v is None else f"{v:.1e}"  # noqa: E731
        peaks = " / ".join(
            f"{rows[m]['peak_mib']:.0f}" if m in rows else "n/a" for m in ("s2sbench", "lm-eval")
        )
        print(
            f"| {workload} | {ratio(rows, 'lm-eval', 's2sbench', clock, 'faster')} "
            f"| {ratio(rows, 'reference', 's2sbench', clock, 'faster')} "
            f"| {ratio(rows, 's2sbench', 'limit', clock, LIMIT)} | {peaks} "
            f"| {fmt(full_diff)} / {fmt(diff.get('lm-eval'))} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="gemma,gpt2", help="gemma and/or gpt2")
    parser.add_argument("--gemma", help="Gemma 3 270M: bundled:gemma3-270m, a .gguf or a folder")
    parser.add_argument("--size", choices=sorted(TEXT_SIZES), default="small")
    parser.add_argument("--tasks", default="story,cmmlu")
    parser.add_argument(
        "--items",
        default="story=46,cmmlu=80",
        help="first N items per workload (the README table's: the size of the suite's version 1)",
    )
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16, help="sequences per batch")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--audio", action="store_true", help="also the random Qwen2-Audio S2T")
    parser.add_argument("--audio-items", type=int, default=40, help="sCMMLU items given audio")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} threads, device {args.device}, batch size "
        f"{args.batch_size}, {args.rounds} rounds, load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    items = {k: int(v) for k, _, v in (x.partition("=") for x in args.items.split(",") if x)}
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_scoring_") as tmp:
        for label, path, extra in text_models(Path(tmp), args):
            methods = text_methods(path, extra, args)
            for key in args.tasks.split(","):
                name, task = TASKS[key]
                requests = text_requests(task, items.get(key))
                workload = f"{label}, {name} ({len(requests)} x {len(requests[0].continuations)})"
                print(f"timing {workload} ...", flush=True)
                results[workload] = measure(
                    methods,
                    requests,
                    args.rounds,
                    args.device,
                    compare=("lm-eval", "s2sbench-full"),
                )
        if args.audio:
            from audio_workload import audio_workload

            results.update(audio_workload(Path(tmp), args, measure))
    print_tables(results, "seconds" if args.clock == "wall" else "cpu_seconds")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        record = {"args": vars(args) | {"json": str(args.json)}, "results": results}
        args.json.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
