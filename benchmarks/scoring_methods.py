"""The ways of scoring text requests that ``bench_scoring.py`` times side by side.

Every method gets the same requests and the same model object and returns, per
request, the log-prob sum (nats) of each continuation:

* ``reference_text``: what the reference implementation does: every (context,
  continuation) pair is its own sequence, one forward at batch size 1, logits
  and log-softmax at every position;
* ``lm_eval_runner``: lm-evaluation-harness ``HFLM.loglikelihood``;
* ``adapter_runner``: an s2sbench adapter's ``score``;
* ``limit_runner``: not a scorer but the cost floor of one: the network body once
  over the unique tokens (each context once, followed by its continuations, in
  length-sorted batches of the same size), and the output layer plus a float32
  log-softmax over the scored positions only. Its numbers are not log-probs of
  the continuations (they see each other); only its time and memory are used.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Scores = list[list[float]]  # per request, per continuation: log-prob sum in nats


def _start_ids(adapter: Any) -> tuple[list[int], int]:
    """What the model reads before every context (the adapter's ``prefix``: Gemma's BOS, as
    its tokenizer adds it) and the id an empty context reads from."""
    tok = adapter.tokenizer
    start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    return list(adapter.prefix), start


def continuation_logprob(model: Any, ids: list[int], n_context: int) -> float:
    """One forward over the whole sequence; sum of log p(token) over tokens after the context."""
    import torch

    inputs = torch.tensor([ids], device=model.device)
    logits = model(input_ids=inputs).logits[0, :-1].float()
    logprobs = logits.log_softmax(-1).gather(1, inputs[0, 1:, None])[:, 0]
    return float(logprobs[n_context - 1 :].double().sum())


def reference_text(model: Any, adapter: Any) -> Callable[[list[Any]], Scores]:
    """Per pair: tokenize context and context + continuation, one batch-1 forward.

    Token boundaries as lm-eval (and s2sbench) draw them: the context's trailing
    space moves to the continuation, the continuation's tokens are those of the
    whole text beyond the context's; the adapter's prefix (the tokenizer's leading special
    tokens) first; an empty context reads from BOS/EOS.
    """
    import torch

    tokenizer = adapter.tokenizer
    prefix, start = _start_ids(adapter)

    def run(requests: list[Any]) -> Scores:
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
                    head = prefix + context_ids or [start]
                    sums.append(continuation_logprob(model, head + tail, len(head)))
                out.append(sums)
        return out

    return run


def lm_eval_runner(model: Any, tokenizer: Any, args: argparse.Namespace) -> Callable | str:
    """A function scoring requests with lm-eval's ``HFLM``, or why there is none.

    ``add_bos_token`` is left unset, so lm-eval follows the tokenizer's own default (Gemma
    reads ``<bos>``), as the s2sbench adapter does by default.
    """
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


def limit_runner(model: Any, adapter: Any, batch_rows: int) -> Callable[[list[Any]], Scores]:
    """The floor: body over each context once plus its continuations, head over scored rows.

    Requests are tokenized by the adapter (as every other method tokenizes), packed as one
    row each (context, then every continuation), sorted by length and batched with the same
    budget as s2sbench's shared-context batches (``hf_causal.shared_cost``).
    """
    import torch

    from s2sbench.models.batching import pad_rows, picked_logprob_sums
    from s2sbench.models.context_scorer import shared_cost

    body, head = model.base_model, model.get_output_embeddings()
    softcap = getattr(model.config.get_text_config(), "final_logit_softcapping", None)
    pad = adapter.pad_id

    def forward(batch: list[Any]) -> Scores:
        rows = [list(e.context) + [t for c in e.continuations for t in c] for e in batch]
        ids, mask, _ = pad_rows(rows, pad, "right", model.device)
        hidden = body(input_ids=ids, attention_mask=mask).last_hidden_state
        keep = torch.zeros_like(mask, dtype=torch.bool)
        for b, e in enumerate(batch):
            n_scored = sum(len(c) for c in e.continuations)
            keep[b, len(e.context) - 1 : len(e.context) - 1 + n_scored] = True
        logits = head(hidden[keep])
        if softcap:
            logits = torch.tanh(logits / softcap) * softcap
        targets = [t for e in batch for c in e.continuations for t in c]
        owners = [b for b, e in enumerate(batch) for c in e.continuations for _ in c]
        sums = picked_logprob_sums(logits, targets, owners, len(batch)).tolist()
        return [[s] * len(e.continuations) for s, e in zip(sums, batch)]

    def run(requests: list[Any]) -> Scores:
        encoded = [adapter.encode(r) for r in requests]
        order = sorted(range(len(encoded)), key=lambda i: -encoded[i].longest)
        out: dict[int, list[float]] = {}
        with torch.inference_mode():
            batch: list[int] = []
            for i in [*order, None]:
                full = i is None or (
                    batch and sum(shared_cost(encoded[j]) for j in batch + [i]) > batch_rows
                )
                if full and batch:
                    out.update(zip(batch, forward([encoded[j] for j in batch])))
                    batch = []
                if i is not None:
                    batch.append(i)
        return [out[i] for i in range(len(requests))]

    return run
