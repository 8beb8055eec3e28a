"""Context reuse for sliding-window, hybrid and linear-attention caches equals full sequences.

Every cache layout transformers 5 builds for a text model is exercised on a tiny
real instance (tests/tiny_window_models.py). With a window shorter than some
requests, those requests are scored as full sequences and the others share
their context, request by request; the numbers equal plain full-sequence
scoring whatever the batch size and padding side. The context's cache is
never written by its continuations' forward (transformers #37078).
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")  # the hf extra

from real_gemma import GEMMA, GEMMA_ARGS, needs_gemma  # noqa: E402
from test_hf_causal import EN, ZH, make_task, requests_for  # noqa: E402
from tiny_window_models import ARCHITECTURES, WINDOW, window_model_factory  # noqa: E402

from s2sbench.core.context_request import ContextRequest  # noqa: E402
from s2sbench.models.batching import CannotReuseCache, pad_rows, positions_from_mask  # noqa: E402
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402
from s2sbench.models.kv_reuse import expand_cache, reuse_limit  # noqa: E402


@pytest.fixture(scope="module")
def window_model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return window_model_factory(tmp_path_factory)


@pytest.fixture(scope="module")
def requests() -> list[ContextRequest]:
    return requests_for(make_task("en_t", "en", EN)) + requests_for(make_task("zh_t", "zh", ZH))


def logprobs(model: HFCausalLM, requests: list[ContextRequest]) -> list[list[float]]:
    got = dict(model.score(requests))
    return [[s.logprob_sum for s in got[i]] for i in range(len(requests))]


def assert_close(got: list[list[float]], want: list[list[float]], tol: float) -> None:
    for got_row, want_row in zip(got, want, strict=True):
        assert got_row == pytest.approx(want_row, abs=tol)


class PathCounter:
    """Counts the requests each strategy of an adapter's scorer receives."""

    def __init__(self, model: HFCausalLM):
        scorer = model._token_scorer()
        self.shared = self.full = 0
        shared, full = scorer.shared_context, scorer.full_sequences

        def count_shared(batch: list[Any]) -> Any:
            self.shared += len(batch)
            return shared(batch)

        def count_full(pairs: list[Any], *extras: Any) -> Any:
            self.full += len(pairs)
            return full(pairs, *extras)

        scorer.shared_context, scorer.full_sequences = count_shared, count_full


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_reuse_equals_full_sequences_per_request(
    window_model: Any, requests: list[ContextRequest], arch: str
) -> None:
    path = str(window_model(arch))
    want = logprobs(HFCausalLM(path, dtype="float32", reuse_context=False, batch_size=1), requests)
    for batch_size in (1, 3, 8):
        for side in ("left", "right"):
            model = HFCausalLM(path, dtype="float32", batch_size=batch_size, padding_side=side)
            counter = PathCounter(model)
            assert_close(logprobs(model, requests), want, 1e-5)
            assert not model._fell_back
            limit = model._token_scorer().reuse_limit()
            fits = [model.encode(r).longest <= (limit or 10**9) for r in requests]
            assert counter.shared == sum(fits)  # every request that fits shares its context
            pairs = sum(len(r.continuations) for r, f in zip(requests, fits) if not f)
            assert counter.full == pairs  # the rest, and only the rest, as full sequences
    if limit is not None:
        assert limit == WINDOW and 0 < sum(fits) < len(requests)  # both paths were exercised


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_expanded_cache_leaves_the_context_cache_untouched(window_model: Any, arch: str) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(window_model(arch), dtype=torch.float32).eval()
    ids, mask, _ = pad_rows([[5, 6, 7, 8], [9, 10]], 0, "left")
    with torch.inference_mode():
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions_from_mask(mask))
        cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
        before = _snapshot(cache)
        index = torch.tensor([0, 0, 1, 1, 1])
        copy = expand_cache(cache, index, reuse_limit(model.config))
        assert copy is not cache and all(a is not b for a, b in zip(copy.layers, cache.layers))
        cont = torch.tensor([[11, 12, 13]] * 5)
        model(
            input_ids=cont,
            attention_mask=torch.cat([mask[index], torch.ones_like(cont)], 1),
            position_ids=torch.tensor([[4, 5, 6]] * 2 + [[2, 3, 4]] * 3),
            cache=copy,
        )
    after = _snapshot(cache)
    assert before.keys() == after.keys() and len(before) > 0
    for key, value in before.items():
        assert torch.equal(value, after[key]) if torch.is_tensor(value) else value == after[key]
    grown = _snapshot(copy)
    assert any(torch.is_tensor(v) and v.shape[0] == 5 for v in grown.values())


def _snapshot(cache: Any) -> dict[str, Any]:
    """Every tensor (cloned) and int of every cache layer, by layer and attribute name."""
    out: dict[str, Any] = {}
    for i, layer in enumerate(cache.layers):
        for name, value in vars(layer).items():
            values = value.items() if isinstance(value, dict) else [("", value)]
            for sub, item in values:
                if torch.is_tensor(item):
                    out[f"{i}.{name}.{sub}"] = item.clone()
                elif isinstance(item, int) and not isinstance(item, bool):
                    out[f"{i}.{name}.{sub}"] = item
    return out


def test_reuse_limit_follows_the_config() -> None:
    from transformers import GPT2Config, Llama4TextConfig, MistralConfig, Qwen2Config

    assert reuse_limit(GPT2Config()) is None
    assert reuse_limit(MistralConfig(sliding_window=64)) == 64
    assert reuse_limit(Qwen2Config(use_sliding_window=False, sliding_window=64)) is None
    with pytest.raises(CannotReuseCache, match="chunked"):
        reuse_limit(Llama4TextConfig(attention_chunk_size=16, num_hidden_layers=4))


def test_a_narrower_window_than_routed_for_is_refused(window_model: Any) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(window_model("mistral"), dtype=torch.float32)
    with torch.inference_mode():
        cache = model(input_ids=torch.tensor([[5, 6, 7]])).past_key_values
    index = torch.tensor([0])
    expand_cache(cache, index, WINDOW)
    with pytest.raises(CannotReuseCache, match="sliding window"):
        expand_cache(cache, index, WINDOW + 1)
    with pytest.raises(CannotReuseCache):
        expand_cache(cache, index, None)


@needs_gemma
@pytest.mark.parametrize("task_name", ["sample_story_en", "sample_cmmlu"])
def test_real_gemma3_reuses_its_hybrid_cache_exactly(task_name: str) -> None:
    """Gemma 3 270M (real weights): every sample request fits its 512-token window, so all share
    their context, and the log-probs equal full-sequence scoring within 1e-4."""
    from s2sbench.tasks.registry import BUILTIN_TASKS

    requests = requests_for(BUILTIN_TASKS[task_name].load().limited(6))
    path = GEMMA
    shared = HFCausalLM(path, batch_size=8, **GEMMA_ARGS)
    counter = PathCounter(shared)
    full = HFCausalLM(path, reuse_context=False, batch_size=3, padding_side="left", **GEMMA_ARGS)
    full.weights._model = shared.model
    assert shared._token_scorer().reuse_limit() == 512
    got, want = logprobs(shared, requests), logprobs(full, requests)
    assert counter.shared == len(requests) and counter.full == 0
    assert_close(got, want, 1e-4)
    assert all(-200 < v < 0 for row in got for v in row)
