"""The output layer runs only at the positions whose log-prob is read, on every text path.

Gemma 3's output layer (262,144 x 640) costs more than its whole transformer
body per position, so the ``hf`` adapter asks the model for the logits of the
scored positions only (``logits_to_keep``). These tests count the rows that
reach the output layer, check the numbers against a plain full-logits
computation (1e-5, batch sizes 1/3/8, left and right padding, shared context
and full sequences), show that an off-by-one in the kept positions would be
caught, and cover the fallbacks for model classes that do not honour the mask.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")  # the hf extra
pytest.importorskip("transformers")

from real_gemma import GEMMA, GEMMA_ARGS, needs_gemma  # noqa: E402
from test_hf_causal import EN, ZH, make_task, requests_for  # noqa: E402
from tiny_models import make_gpt2  # noqa: E402
from tiny_window_models import make_window_model  # noqa: E402
from transformers import GPT2LMHeadModel  # noqa: E402
from transformers.modeling_outputs import CausalLMOutputWithPast  # noqa: E402

from s2sbench.core.context_request import ContextRequest  # noqa: E402
from s2sbench.models.causal_scoring import TokenScorer  # noqa: E402
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402
from s2sbench.models.logit_selection import ALL, MASK, TAIL, LogitSelector  # noqa: E402


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        "gpt2": make_gpt2(tmp_path_factory.mktemp("gpt2")),
        "gemma3": make_window_model("gemma3", tmp_path_factory.mktemp("gemma3")),
    }


@pytest.fixture(scope="module")
def requests() -> list[ContextRequest]:
    return requests_for(make_task("en_t", "en", EN)) + requests_for(make_task("zh_t", "zh", ZH))


def direct_scores(model: HFCausalLM, requests: list[ContextRequest]) -> list[list[float]]:
    """Each (context, continuation) alone, unpadded, logits at every position (the model's own
    head, soft-cap included), then log-softmax: no selection of any kind."""
    out = []
    with torch.inference_mode():
        for request in requests:
            encoded, sums = model.encode(request), []
            for cont in encoded.continuations:
                ids = torch.tensor([encoded.context + cont])
                logp = model.model(input_ids=ids).logits[0].float().log_softmax(-1)
                start = len(encoded.context) - 1
                rows = torch.arange(start, start + len(cont))
                sums.append(float(logp[rows, torch.tensor(cont)].double().sum()))
            out.append(sums)
    return out


def scores(model: HFCausalLM, requests: list[ContextRequest]) -> list[list[float]]:
    got = dict(model.score(requests))
    return [[s.logprob_sum for s in got[i]] for i in range(len(requests))]


def assert_close(got: list[list[float]], want: list[list[float]], tol: float = 1e-5) -> None:
    for got_row, want_row in zip(got, want, strict=True):
        assert got_row == pytest.approx(want_row, abs=tol)


class HeadRows:
    """Counts the positions that pass through a model's output layer."""

    def __init__(self, model: Any):
        self.rows = 0
        model.get_output_embeddings().register_forward_hook(self._count)

    def _count(self, module: Any, args: tuple[Any, ...], output: Any) -> None:
        self.rows += args[0].shape[:-1].numel()


@pytest.mark.parametrize("arch", ["gpt2", "gemma3"])
@pytest.mark.parametrize("reuse", [True, False])
def test_logits_only_at_read_positions(
    paths: dict[str, Path], requests: list[ContextRequest], arch: str, reuse: bool
) -> None:
    reference = HFCausalLM(str(paths[arch]), dtype="float32")
    want = direct_scores(reference, requests)
    scorer = reference._token_scorer()
    read = 0
    for encoded in map(reference.encode, requests):
        lengths = [len(c) for c in encoded.continuations]
        # a request sharing its context reads its context's last position once, then every
        # continuation token but the last; a full sequence reads each continuation token's
        # predecessor (here: the tiny Gemma 3's longer requests, beyond its 20-token window)
        shared = reuse and scorer.fits(encoded)
        read += 1 + sum(n - 1 for n in lengths) if shared else sum(lengths)
    for batch_size in (1, 3, 8):
        for side in ("left", "right"):
            model = HFCausalLM(
                str(paths[arch]),
                dtype="float32",
                batch_size=batch_size,
                padding_side=side,
                reuse_context=reuse,
            )
            model._token_scorer().selector.mode = MASK  # no probe forward in the count
            head = HeadRows(model.model)
            assert_close(scores(model, requests), want)
            assert head.rows == read


def test_an_off_by_one_in_the_kept_positions_is_caught(
    paths: dict[str, Path], requests: list[ContextRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The equality checks above have teeth: reading the logits one position late (the mistake
    an off-by-one in ``logits_to_keep`` makes) moves the scores far beyond their tolerance."""
    model = HFCausalLM(str(paths["gemma3"]), dtype="float32", reuse_context=False)
    want = direct_scores(model, requests)
    select = LogitSelector.select
    monkeypatch.setattr(
        LogitSelector, "select", lambda self, keep, **kw: select(self, keep.roll(1, 1), **kw)
    )
    got = scores(model, requests)
    assert max(abs(a - b) for g, w in zip(got, want) for a, b in zip(g, w)) > 1e-2


class NoKeepGPT2(GPT2LMHeadModel):
    """A causal LM whose forward has no ``logits_to_keep`` (older transformers classes)."""

    def forward(self, input_ids: Any = None, cache: Any = None, **kw: Any) -> Any:
        return super().forward(input_ids=input_ids, cache=cache, **kw)


class OldSlicingGPT2(GPT2LMHeadModel):
    """A causal LM that slices ``hidden[:, logits_to_keep]``: an int works, a mask does not."""

    def forward(
        self, input_ids: Any = None, cache: Any = None, logits_to_keep: Any = 0, **kw: Any
    ) -> Any:
        out = self.transformer(input_ids=input_ids, cache=cache, **kw)
        keep = logits_to_keep
        index = slice(-keep, None) if isinstance(keep, int) else keep
        logits = self.lm_head(out.last_hidden_state[:, index, :])
        return CausalLMOutputWithPast(logits=logits, past_key_values=out.past_key_values)


@pytest.mark.parametrize("cls, mode", [(NoKeepGPT2, ALL), (OldSlicingGPT2, TAIL)])
def test_models_that_do_not_honour_the_mask_still_score_right(
    paths: dict[str, Path], requests: list[ContextRequest], cls: Any, mode: str
) -> None:
    adapter = HFCausalLM(str(paths["gpt2"]), dtype="float32")
    want = direct_scores(adapter, requests)
    model = cls.from_pretrained(paths["gpt2"], dtype=torch.float32).eval()
    encoded = [adapter.encode(r) for r in requests]
    for side in ("left", "right"):
        scorer = TokenScorer(model, adapter.pad_id, side)
        shared = scorer.shared_context(encoded[:3]) + scorer.shared_context(encoded[3:])
        assert scorer.selector.mode == mode
        assert_close(shared, want)
        pairs = [(e.context, c) for e in encoded for c in e.continuations]
        flat = iter(scorer.full_sequences(pairs))
        assert_close([[next(flat) for _ in e.continuations] for e in encoded], want)


@needs_gemma
def test_real_gemma3_logits_at_read_positions_equal_the_full_logits() -> None:
    """Gemma 3 270M, real weights: the kept-logits scores equal full-logits ones within 1e-4,
    and its 262,144-wide output layer sees only the read positions."""
    from s2sbench.tasks.registry import BUILTIN_TASKS

    requests = requests_for(BUILTIN_TASKS["sample_story_en"].load().limited(4))
    model = HFCausalLM(GEMMA, batch_size=4, padding_side="left", **GEMMA_ARGS)
    want = direct_scores(model, requests)
    model._token_scorer().selector.mode = MASK
    head = HeadRows(model.model)
    assert_close(scores(model, requests), want, 1e-4)
    encoded = [model.encode(r) for r in requests]
    assert encoded[0].context[0] == model.tokenizer.bos_token_id
    assert head.rows == len(encoded) + sum(len(c) - 1 for e in encoded for c in e.continuations)
