"""Length-sorted batching, OOM halving and the shared tensor helpers."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")  # the hf extra


from s2sbench.core.errors import ConfigError, ModelError  # noqa: E402
from s2sbench.models.batching import (  # noqa: E402
    AutoBatcher,
    CannotReuseCache,
    expand_cache,
    is_out_of_memory,
    pad_rows,
    parse_batch_size,
    picked_logprob_sums,
    positions_from_mask,
)


def test_parse_batch_size() -> None:
    assert parse_batch_size(8) == (8, False)
    assert parse_batch_size("8") == (8, False)
    assert parse_batch_size("auto") == (64, True)
    assert parse_batch_size("auto", auto_start=16) == (16, True)
    assert parse_batch_size("auto:128") == (128, True)
    assert parse_batch_size(None) == (64, True)
    for bad in (0, "-3", "many"):
        with pytest.raises(ConfigError):
            parse_batch_size(bad)


def test_batches_are_longest_first_and_cover_every_unit_once() -> None:
    lengths = [3, 9, 1, 9, 5, 7, 2]
    batcher: AutoBatcher[int, list[int]] = AutoBatcher(3)
    seen = []
    for indices, result in batcher.run(lengths, lambda units: list(units), length=lambda n: n):
        assert len(indices) <= 3
        assert result == [lengths[i] for i in indices]
        seen += indices
    assert sorted(seen) == list(range(len(lengths)))
    assert [lengths[i] for i in seen] == sorted(lengths, reverse=True)
    assert seen[:2] == [1, 3]  # equal lengths keep input order


def test_cost_budget_fills_batches_but_never_leaves_a_unit_out() -> None:
    units = [4, 1, 1, 2, 6]  # the cost of each unit is its value
    batcher: AutoBatcher[int, None] = AutoBatcher(4)
    batches = [idx for idx, _ in batcher.run(units, lambda u: None, length=lambda u: u, cost=int)]
    assert batches == [[4], [0], [3, 1, 2]]  # 6 alone (over budget), then 4, then 2+1+1


def test_out_of_memory_halves_retries_and_remembers() -> None:
    calls: list[int] = []

    def forward(units: list[int]) -> list[int]:
        calls.append(len(units))
        if len(units) > 5:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [u * 2 for u in units]

    batcher: AutoBatcher[int, list[int]] = AutoBatcher("auto", auto_start=32)
    units = list(range(20))
    out = {}
    for indices, result in batcher.run(units, forward, length=lambda u: u):
        out.update(zip(indices, result))
    assert out == {u: u * 2 for u in units}
    assert calls[:3] == [20, 16, 8]
    assert batcher.size == 4
    calls.clear()
    list(batcher.run(units, forward, length=lambda u: u))  # the size that worked is kept
    assert max(calls) == 4


def test_runtime_error_out_of_memory_also_recovers_and_other_errors_propagate() -> None:
    def forward(units: list[int]) -> int:
        if len(units) > 1:
            raise RuntimeError("MPS backend out of memory")
        return units[0]

    batcher: AutoBatcher[int, int] = AutoBatcher(4)
    assert sorted(r for _, r in batcher.run([1, 2, 3], forward, length=lambda u: u)) == [1, 2, 3]

    def broken(units: list[int]) -> int:
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        list(AutoBatcher(4).run([1, 2], broken, length=lambda u: u))


def test_out_of_memory_on_one_unit_is_a_clear_model_error() -> None:
    def forward(units: list[int]) -> None:
        raise torch.OutOfMemoryError("out of memory")

    with pytest.raises(ModelError, match="single input of length 7"):
        list(AutoBatcher(2).run([7, 3], forward, length=lambda u: u))


def test_is_out_of_memory() -> None:
    assert is_out_of_memory(torch.OutOfMemoryError("x"))
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))
    assert not is_out_of_memory(RuntimeError("index out of range"))
    assert not is_out_of_memory(ValueError("out of memory"))


@pytest.mark.parametrize("side", ["left", "right"])
def test_pad_rows_and_positions(side: str) -> None:
    ids, mask, offsets = pad_rows([[5, 6, 7], [8]], pad_id=0, side=side)
    if side == "right":
        assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
        assert offsets == [0, 0]
    else:
        assert ids.tolist() == [[5, 6, 7], [0, 0, 8]]
        assert offsets == [0, 2]
    assert mask.sum(1).tolist() == [3, 1]
    positions = positions_from_mask(mask)
    assert positions[0].tolist() == [0, 1, 2]
    assert positions[1, offsets[1]].item() == 0
    assert positions_from_mask(mask, torch.tensor([[10], [20]]))[:, 0].tolist() == [10, 20]


def test_picked_logprob_sums_normalise_in_float32_and_sum_per_owner() -> None:
    torch.manual_seed(0)
    logits = torch.randn(4, 11, dtype=torch.bfloat16)  # four read positions, already cut
    # picks: (row 0, id 3) and (row 1, id 4) -> sum 0; (row 3, id 7) -> sum 2; sum 1 gets none
    got = picked_logprob_sums(logits, [3, 4, 7], [0, 0, 2], 3, source_rows=[0, 1, 3])
    logp = logits.float().log_softmax(-1)
    want = [float(logp[0, 3] + logp[1, 4]), 0.0, float(logp[3, 7])]
    assert got.dtype == torch.float64
    assert got.tolist() == pytest.approx(want, abs=1e-6)
    # the same sums from a bf16 log-softmax are off by more than that tolerance
    rounded = logits.log_softmax(-1)
    assert rounded.dtype == torch.bfloat16 and abs(float(rounded[3, 7]) - want[2]) > 1e-4
    # without source_rows, pick n reads row n
    assert picked_logprob_sums(logits, [5], [0], 1).tolist() == pytest.approx([float(logp[0, 5])])


def test_expand_cache_copies_rows_without_touching_the_original() -> None:
    from transformers import DynamicCache

    keys = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).reshape(2, 1, 3, 2)
    cache = DynamicCache([(keys, keys + 100)])
    index = torch.tensor([0, 0, 1])
    copy = expand_cache(cache, index)
    assert copy is not cache
    layer = copy.layers[0]
    assert layer.keys.shape[0] == 3
    assert torch.equal(layer.keys[1], keys[0]) and torch.equal(layer.values[2], keys[1] + 100)
    layer.update(torch.zeros(3, 1, 1, 2), torch.zeros(3, 1, 1, 2))  # a forward appends
    assert cache.layers[0].keys.shape == (2, 1, 3, 2)
    with pytest.raises(CannotReuseCache):
        expand_cache(object(), index)
