"""The ``hf`` causal-LM adapter on a tiny random GPT-2, loaded through from_pretrained."""

from __future__ import annotations

import functools
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")  # the hf extra

from tiny_models import make_gpt2  # noqa: E402

from s2sbench.core.conditions import Condition  # noqa: E402
from s2sbench.core.context_request import ContextRequest  # noqa: E402
from s2sbench.core.errors import ModelError  # noqa: E402
from s2sbench.core.item import Item, Task  # noqa: E402
from s2sbench.core.scoring import ContinuationScore  # noqa: E402
from s2sbench.models.batching import CannotReuseCache  # noqa: E402
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402
from s2sbench.requests.build import build_requests  # noqa: E402
from s2sbench.requests.prompts import get_template  # noqa: E402

EN = [
    ("Tom forgot his keys at home.", ("He waited for his sister.", "He flew to the moon.")),
    (
        "She went to the market to buy bread. The shop was closed.",
        ("She bought it elsewhere.", "She sang.", "The bread ate her.", "She went home sad."),
    ),
    ("It rained all day.", ("The children stayed inside and played cards.", "Dry.")),
    ("Paris is the capital of", (" France.", " the moon.")),
    ("The cat sat on the mat.", ("It purred.", "It barked loudly at the mailman all night.")),
]
ZH = [
    ("小明今天早上去学校上课。", ("老师表扬了他。", "他变成了一条鱼。")),
    ("北京是中国的", ("首都。", "一个小村庄。", "一种水果。", "海洋。")),
    ("天气很冷，但是他们还是去公园散步了。", ("回家后他们喝了热茶。", "他们热得出汗。")),
]


def make_task(name: str, lang: str, rows: list[tuple[str, tuple[str, ...]]]) -> Task:
    items = tuple(
        Item(id=f"{name}-{i}", lang=lang, context_text=ctx, continuations=conts, gold=0)
        for i, (ctx, conts) in enumerate(rows)
    )
    return Task(name=name, kind="choice", lang=lang, items=items)


def requests_for(task: Task) -> list[ContextRequest]:
    return build_requests(task, Condition.T2T, get_template("reference"))


@pytest.fixture(scope="session")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_gpt2(tmp_path_factory.mktemp("gpt2"))


@pytest.fixture(scope="module")
def requests() -> list[ContextRequest]:
    return requests_for(make_task("en_t", "en", EN)) + requests_for(make_task("zh_t", "zh", ZH))


@pytest.fixture(scope="module")
def direct(gpt2_dir: Path, requests: list[ContextRequest]) -> list[list[float]]:
    """Log-prob sums computed straight with transformers, one unpadded sequence at a time."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gpt2_dir)
    model = AutoModelForCausalLM.from_pretrained(gpt2_dir, dtype=torch.float32).eval()
    out = []
    for request in requests:
        sums = []
        for cont in request.continuations:
            context = request.text_context
            n_space = len(context) - len(context.rstrip())
            context, cont = (
                context[: len(context) - n_space],
                context[len(context) - n_space :] + cont,
            )
            ctx_ids = tok(context, add_special_tokens=False)["input_ids"]
            cont_ids = tok(context + cont, add_special_tokens=False)["input_ids"][len(ctx_ids) :]
            ids = torch.tensor([ctx_ids + cont_ids])
            with torch.no_grad():
                logp = model(ids).logits[0].float().log_softmax(-1)
            positions = torch.arange(len(ctx_ids) - 1, len(ctx_ids) + len(cont_ids) - 1)
            sums.append(float(logp[positions, torch.tensor(cont_ids)].sum()))
        out.append(sums)
    return out


def score_all(model: HFCausalLM, requests: list[ContextRequest]) -> list[list[ContinuationScore]]:
    got = dict(model.score(requests))
    assert sorted(got) == list(range(len(requests)))
    return [got[i] for i in range(len(requests))]


def assert_close(scores: list[list[ContinuationScore]], want: list[list[float]]) -> None:
    for got_row, want_row in zip(scores, want, strict=True):
        # float32 round-off grows with the sum: 1e-5 absolute, or 1e-6 of a long sum
        assert [s.logprob_sum for s in got_row] == pytest.approx(want_row, rel=1e-6, abs=1e-5)


def test_matches_a_direct_transformers_computation(
    gpt2_dir: Path, requests: list[ContextRequest], direct: list[list[float]]
) -> None:
    model = HFCausalLM(str(gpt2_dir), dtype="float32")
    scores = score_all(model, requests)
    assert_close(scores, direct)
    assert all(s.n_tokens > 0 and s.logprob_sum < 0 for row in scores for s in row)
    # English: the joiner's space moved into the continuation's first token.
    first = model.tokenizer.convert_ids_to_tokens(model.encode(requests[0]).continuations[0][0])
    assert first.startswith("Ġ")
    assert requests[-1].joiner == "" and requests[-1].lang == "zh"


@pytest.mark.parametrize("reuse", [True, False])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_scores_do_not_depend_on_batching(
    gpt2_dir: Path,
    requests: list[ContextRequest],
    direct: list[list[float]],
    batch_size: int,
    side: str,
    reuse: bool,
) -> None:
    model = HFCausalLM(
        str(gpt2_dir),
        dtype="float32",
        batch_size=batch_size,
        padding_side=side,
        reuse_context=reuse,
    )
    assert_close(score_all(model, requests), direct)


@pytest.mark.parametrize("reuse", [True, False])
def test_auto_batch_size_recovers_from_out_of_memory(
    gpt2_dir: Path, requests: list[ContextRequest], direct: list[list[float]], reuse: bool
) -> None:
    model = HFCausalLM(
        str(gpt2_dir), dtype="float32", batch_size="auto", max_batch_size=64, reuse_context=reuse
    )
    real_forward = model.model.forward
    raised = []

    @functools.wraps(real_forward)
    def forward(*args: Any, **kwargs: Any) -> Any:
        if kwargs["input_ids"].shape[0] > 5:
            raised.append(kwargs["input_ids"].shape[0])
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_forward(*args, **kwargs)

    model.model.forward = forward
    assert_close(score_all(model, requests), direct)
    assert raised and model.batcher.size <= 5


def test_falls_back_to_full_sequences_when_the_cache_cannot_be_reused(
    gpt2_dir: Path,
    requests: list[ContextRequest],
    direct: list[list[float]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(cache: Any, index: Any, limit: int | None = None) -> Any:
        raise CannotReuseCache("simulated hybrid cache")

    monkeypatch.setattr("s2sbench.models.causal_scoring.expand_cache", refuse)
    model = HFCausalLM(str(gpt2_dir), dtype="float32", batch_size=4)
    with caplog.at_level(logging.WARNING, logger="s2sbench.models.hf_causal"):
        assert_close(score_all(model, requests), direct)
        assert_close(score_all(model, requests), direct)
    assert sum("cannot reuse the context cache" in r.message for r in caplog.records) == 1


def test_long_contexts_are_truncated_on_the_left_the_same_way_in_both_paths(
    gpt2_dir: Path, requests: list[ContextRequest]
) -> None:
    cut = {"max_length": 24, "long_context": "truncate"}  # the default refuses them
    shared = HFCausalLM(str(gpt2_dir), dtype="float32", **cut)
    full = HFCausalLM(str(gpt2_dir), dtype="float32", reuse_context=False, **cut)
    a, b = score_all(shared, requests), score_all(full, requests)
    assert_close(a, [[s.logprob_sum for s in row] for row in b])
    assert any(s.extra.get("truncated_context_tokens") for row in a for s in row)
    assert all(
        len(shared.encode(r).context) + max(map(len, shared.encode(r).continuations)) <= 24
        for r in requests
    )


def test_a_continuation_without_tokens_names_its_item(gpt2_dir: Path) -> None:
    model = HFCausalLM(str(gpt2_dir), dtype="float32")
    vocab = model.tokenizer.get_vocab()
    word = next(w for w in sorted(vocab) if w.isascii() and w.isalpha() and len(w) >= 3)
    task = make_task("merge_t", "zh", [(word[:-1], (word[-1], "好"))])  # zh joiner is ""
    with pytest.raises(ModelError) as err:
        list(model.score(requests_for(task)))
    message = str(err.value)
    assert "merge_t-0" in message and "merge_t" in message and "continuation 0" in message


def test_refuses_speech_conditions_and_keeps_batching_out_of_the_fingerprint(
    gpt2_dir: Path,
) -> None:
    a = HFCausalLM(str(gpt2_dir), dtype="float32")
    b = HFCausalLM(
        str(gpt2_dir), dtype="float32", batch_size=3, padding_side="left", reuse_context=False
    )
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint()["dtype"] == "float32" and a.fingerprint()["weights_sha256"]
    assert HFCausalLM(str(gpt2_dir), dtype="bfloat16").fingerprint() != a.fingerprint()
    assert a.unsupported_reason(Condition.T2T, "zh") is None
    for cond in (Condition.S2T, Condition.T2S, Condition.S2S):
        assert a.unsupported_reason(cond, "en")


def test_weights_fingerprint_follows_the_content(gpt2_dir: Path, tmp_path: Path) -> None:
    from s2sbench.core.checkpoint_files import weights_fingerprint

    copy = shutil.copytree(gpt2_dir, tmp_path / "copy")
    assert weights_fingerprint(copy) == weights_fingerprint(gpt2_dir)
    make_gpt2(copy, seed=1)  # retrained in place: same path, new weights
    assert (
        weights_fingerprint(copy)["weights_sha256"]
        != weights_fingerprint(gpt2_dir)["weights_sha256"]
    )


def test_bad_checkpoint_directories_give_clear_errors(gpt2_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        HFCausalLM(str(tmp_path / "missing"))
    no_weights = tmp_path / "no_weights"
    no_weights.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(gpt2_dir / name, no_weights / name)
    with pytest.raises(ModelError, match=r"no weight files.*no_weights|no_weights.*no weight"):
        HFCausalLM(str(no_weights))
    no_config = shutil.copytree(gpt2_dir, tmp_path / "no_config")
    (no_config / "config.json").unlink()
    with pytest.raises(ModelError, match="no config.json"):
        HFCausalLM(str(no_config))
    remote = shutil.copytree(gpt2_dir, tmp_path / "remote")
    config = json.loads((remote / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_x.XForCausalLM"}
    (remote / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="--trust-remote-code"):
        HFCausalLM(str(remote))


def test_pickle_weights_need_allow_pickle(
    gpt2_dir: Path, tmp_path: Path, requests: list[ContextRequest], direct: list[list[float]]
) -> None:
    from safetensors.torch import load_file

    pickled = shutil.copytree(gpt2_dir, tmp_path / "pickled")
    state = load_file(str(pickled / "model.safetensors"))
    (pickled / "model.safetensors").unlink()
    torch.save(state, pickled / "pytorch_model.bin")
    with pytest.raises(ModelError, match=r"pickle.*--allow-pickle"):
        HFCausalLM(str(pickled))
    model = HFCausalLM(str(pickled), dtype="float32", allow_pickle=True)
    assert_close(score_all(model, requests[:2]), direct[:2])


def test_end_to_end_through_evaluate(gpt2_dir: Path, tmp_path: Path) -> None:
    import s2sbench

    args = {
        "model": "hf",
        "tasks": ["sample_story_en"],
        "conditions": ["t2t"],
        "limit": 5,
        "output_path": tmp_path,
        "progress": False,
    }
    first = s2sbench.evaluate(model_args={"pretrained": str(gpt2_dir), "dtype": "float32"}, **args)
    metrics = first.results["sample_story_en"]["t2t"]
    assert metrics and (tmp_path / "results.json").is_file()
    records = first.records("sample_story_en", "t2t")
    assert len(records) == 5 and all(len(r.scores) == 2 for r in records)
    assert first.config["scored_now"] == 5
    # Batching options do not change the model's identity: everything is reused.
    again = s2sbench.evaluate(
        model_args={
            "pretrained": str(gpt2_dir),
            "dtype": "float32",
            "reuse_context": False,
            "padding_side": "left",
        },
        batch_size=3,
        **args,
    )
    assert again.config["scored_now"] == 0 and again.config["reused_from_store"] == 5


def test_weights_load_on_first_score_only(
    gpt2_dir: Path, requests: list[ContextRequest], direct: list[list[float]]
) -> None:
    """Building the adapter (to fingerprint it, or to plan a sweep) reads no weights."""
    model = HFCausalLM(str(gpt2_dir), dtype="float32")
    fingerprint = model.fingerprint()
    assert not model.weights.loaded
    assert fingerprint["dtype"] == "float32"
    assert_close(score_all(model, requests), direct)
    assert model.weights.loaded
    assert model.fingerprint() == fingerprint
    assert str(model.model.dtype) == "torch.float32"


@pytest.mark.parametrize("reuse", [True, False])
def test_scores_do_not_depend_on_request_order(
    gpt2_dir: Path, requests: list[ContextRequest], direct: list[list[float]], reuse: bool
) -> None:
    """Shuffled requests (so different batch neighbours) give each request the same scores."""
    import random

    order = list(range(len(requests)))
    random.Random(3).shuffle(order)
    model = HFCausalLM(str(gpt2_dir), dtype="float32", batch_size=3, reuse_context=reuse)
    shuffled = score_all(model, [requests[i] for i in order])
    assert_close([shuffled[order.index(i)] for i in range(len(requests))], direct)
