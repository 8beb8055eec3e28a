"""``--batch-size auto``: sized from free memory before the first forward, halved on OOM.

On CPU an out-of-memory is usually the kernel killing the process, so the auto
size is first capped by what the free memory holds for the longest batch
(tests fake the free memory); an out-of-memory exception still halves it. The
scores never depend on the size chosen.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")  # the hf extra

from test_hf_causal import EN, ZH, make_task, requests_for  # noqa: E402
from tiny_models import make_gpt2  # noqa: E402

import s2sbench.models.memory_budget as budget  # noqa: E402
from s2sbench.core.context_request import ContextRequest  # noqa: E402
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_gpt2(tmp_path_factory.mktemp("gpt2"))


@pytest.fixture(scope="module")
def requests() -> list[ContextRequest]:
    return requests_for(make_task("en_t", "en", EN)) + requests_for(make_task("zh_t", "zh", ZH))


def scores(model: HFCausalLM, requests: list[ContextRequest]) -> list[list[float]]:
    got = dict(model.score(requests))
    return [[s.logprob_sum for s in got[i]] for i in range(len(requests))]


def assert_close(got: list[list[float]], want: list[list[float]]) -> None:
    for a, b in zip(got, want, strict=True):
        assert a == pytest.approx(b, abs=1e-5)


def record_rows(model: HFCausalLM) -> list[int]:
    """The number of rows of every forward the adapter runs over whole sequences or contexts
    (not the continuation forwards reading a copied cache, and no probe forwards)."""
    rows: list[int] = []
    real = model.model.forward

    @functools.wraps(real)
    def forward(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("cache") is None and kwargs.get("past_key_values") is None:
            rows.append(kwargs["input_ids"].shape[0])
        return real(*args, **kwargs)

    model._token_scorer().selector.mode = "mask"
    model.model.forward = forward
    return rows


def test_row_cost_grows_with_length_scored_positions_and_vocabulary(gpt2_dir: Path) -> None:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(gpt2_dir)
    base = budget.row_bytes(config, 4, 50, 10)
    assert budget.row_bytes(config, 4, 100, 10) > base
    assert budget.row_bytes(config, 4, 50, 20) - base == 10 * 3 * config.vocab_size * 4
    assert budget.row_bytes(config, 2, 50, 10) < base  # bf16 activations are half


@pytest.mark.parametrize("reuse", [True, False])
def test_auto_size_is_capped_by_free_memory_before_the_first_forward(
    gpt2_dir: Path,
    requests: list[ContextRequest],
    reuse: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    want = scores(HFCausalLM(str(gpt2_dir), dtype="float32", batch_size=1), requests)
    model = HFCausalLM(str(gpt2_dir), dtype="float32", batch_size="auto:64", reuse_context=reuse)
    encoded = [model.encode(r) for r in requests]
    longest = max(e.longest for e in encoded)
    scored = max(len(c) for e in encoded for c in e.continuations)
    row = budget.row_bytes(model.model.config, 4, longest, scored)
    monkeypatch.setattr(budget, "available_bytes", lambda device: int(5.5 * row / 0.5))
    rows = record_rows(model)
    assert_close(scores(model, requests), want)
    # a batch holds 5 full sequences' worth: 5 pairs, or up to 5 contexts and their endings
    assert model.batcher.size == 5 and max(rows) <= 5
    # plain auto takes the largest batch the free memory holds, past its starting size
    monkeypatch.setattr(budget, "available_bytes", lambda device: int(300.5 * row / 0.5))
    grown = HFCausalLM(str(gpt2_dir), dtype="float32", batch_size="auto", reuse_context=reuse)
    assert grown.batcher.size == 64  # the start, used while the free memory is unknown
    rows = record_rows(grown)
    assert_close(scores(grown, requests), want)
    assert grown.batcher.size == 300 and len(rows) <= 2  # every request in one batch
    # plenty of memory: the auto maximum is kept; a fixed size is never changed
    monkeypatch.setattr(budget, "available_bytes", lambda device: 1 << 50)
    roomy = HFCausalLM(str(gpt2_dir), dtype="float32", batch_size="auto:16", reuse_context=reuse)
    assert_close(scores(roomy, requests), want)
    assert roomy.batcher.size == 16
    monkeypatch.setattr(budget, "available_bytes", lambda device: 1)
    fixed = HFCausalLM(str(gpt2_dir), dtype="float32", batch_size=5, reuse_context=reuse)
    assert_close(scores(fixed, requests), want)
    assert fixed.batcher.size == 5


@pytest.mark.parametrize("reuse", [True, False])
def test_out_of_memory_still_halves_and_scores_do_not_change(
    gpt2_dir: Path, requests: list[ContextRequest], reuse: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "available_bytes", lambda device: None)  # size unknown
    want = scores(HFCausalLM(str(gpt2_dir), dtype="float32", batch_size=1), requests)
    model = HFCausalLM(str(gpt2_dir), dtype="float32", batch_size="auto:32", reuse_context=reuse)
    rows = record_rows(model)
    counting = model.model.forward
    raised: list[int] = []

    def forward(*args: Any, **kwargs: Any) -> Any:
        if kwargs["input_ids"].shape[0] > 4:
            raised.append(kwargs["input_ids"].shape[0])
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return counting(*args, **kwargs)

    model.model.forward = forward
    assert_close(scores(model, requests), want)
    assert raised and model.batcher.size <= 4 and max(rows) <= 4
    assert model.batcher.size >= 2  # halved only as far as needed: 32 -> 16 -> 8 -> 4 (or 2)


def test_free_memory_readers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  1000 kB\nMemFree:  10 kB\nMemAvailable:  600 kB\n")
    assert budget._meminfo_available(meminfo) == 600 * 1024
    assert budget._meminfo_available(tmp_path / "missing") is None
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text("max\n")
    assert budget._cgroup_available(cgroup) is None
    (cgroup / "memory.max").write_text("1000000\n")
    (cgroup / "memory.current").write_text("400000\n")
    assert budget._cgroup_available(cgroup) == 600000
    monkeypatch.setattr(budget, "_meminfo_available", lambda: 5 << 30)
    monkeypatch.setattr(budget, "_cgroup_available", lambda: 1 << 30)
    assert budget.available_bytes("cpu") == 1 << 30  # the tighter of the two
    assert budget.available_bytes() > 0
