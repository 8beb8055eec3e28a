"""Special tokens, token by token: every adapter's text input is what the family's own
tokenizer or processor (or lm-evaluation-harness) produces.

Random tiny models cannot show a missing BOS in their scores, so these tests compare token
ids. Each family is checked twice: with the tiny tokenizer as built (it adds no special
tokens, like the Qwen, GPT-2 and Granite tokenizers) and with a post-processor that puts
``<bos>`` before every text, like Gemma 3n's, Voxtral's (Tekken) and Llama's tokenizers.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from test_model_zoo import BUILDERS  # noqa: E402
from tiny_models import make_gpt2  # noqa: E402
from zoo_requests import s2t_requests, t2t_requests  # noqa: E402

from s2sbench.core.context_request import ContextRequest
from s2sbench.data.audio import read_audio  # noqa: E402
from s2sbench.models.hf_audio import HFAudioLM  # noqa: E402
from s2sbench.models.hf_causal import HFCausalLM  # noqa: E402

TOL = 1e-4


def give_tokenizer_a_bos(directory: Path) -> None:
    """Rewrite the saved ``tokenizer.json`` so a plain ``tok(text)`` reads ``<bos> text``."""
    from tokenizers import Tokenizer, processors

    path = directory / "tokenizer.json"
    core = Tokenizer.from_file(str(path))
    bos = core.token_to_id("<bos>")
    core.post_processor = processors.TemplateProcessing(
        single="<bos> $A", pair="<bos> $A <bos> $B", special_tokens=[("<bos>", bos)]
    )
    core.save(str(path))


def own_ids(tokenizer: Any, text: str) -> list[int]:
    """What the family's tokenizer itself gives for ``text`` (its default special tokens)."""
    return list(tokenizer(text)["input_ids"])


def with_empty_context(request: ContextRequest) -> ContextRequest:
    return dataclasses.replace(request, prefix="", context_text="", joiner="")


# ---------------------------------------------------------------------------- hf (causal LMs)


@pytest.fixture(scope="module", params=["as built", "adds <bos>"])
def gpt2(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = make_gpt2(tmp_path_factory.mktemp("audit_gpt2"))
    if request.param == "adds <bos>":
        give_tokenizer_a_bos(directory)
    return directory


def lm_eval_model(directory: Path, **kwargs: Any) -> Any:
    """lm-evaluation-harness's ``HFLM`` on the same weights and tokenizer, its defaults kept."""
    from lm_eval.models.huggingface import HFLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(directory, dtype="float32")
    return HFLM(pretrained=model, tokenizer=AutoTokenizer.from_pretrained(directory), **kwargs)


@pytest.mark.parametrize("add_bos_token", [None, False])
def test_hf_tokens_equal_lm_eval_encode_pair(gpt2: Path, add_bos_token: bool | None) -> None:
    pytest.importorskip("lm_eval")
    ours = HFCausalLM(str(gpt2), dtype="float32", add_bos_token=add_bos_token)
    theirs = lm_eval_model(gpt2, add_bos_token=add_bos_token)
    adds_bos = own_ids(ours.tokenizer, "a")[0] == ours.tokenizer.bos_token_id
    for request in t2t_requests():
        encoded = ours.encode(request)
        assert (encoded.context[0] == ours.tokenizer.bos_token_id) == (
            adds_bos and add_bos_token is None
        )
        for index, continuation in enumerate(request.continuations):
            context, tail = theirs._encode_pair(request.text_context, continuation)
            assert list(encoded.context) == context
            assert list(encoded.continuations[index]) == tail


def test_hf_scores_equal_lm_eval_loglikelihood_including_an_empty_context(gpt2: Path) -> None:
    pytest.importorskip("lm_eval")
    from lm_eval.api.instance import Instance

    requests = [*t2t_requests()[:2], with_empty_context(t2t_requests()[2])]
    ours = dict(HFCausalLM(str(gpt2), dtype="float32").score(requests))
    theirs = lm_eval_model(gpt2)
    pairs = [(r.text_context, c) for r in requests for c in r.continuations]
    instances = [
        Instance(request_type="loglikelihood", doc={}, arguments=pair, idx=i)
        for i, pair in enumerate(pairs)
    ]
    expected = [logprob for logprob, _ in theirs.loglikelihood(instances, disable_tqdm=True)]
    got = [s.logprob_sum for i in range(len(requests)) for s in ours[i]]
    assert got == pytest.approx(expected, abs=TOL)


def test_hf_add_bos_token_overrides_and_bos_is_never_doubled(gpt2: Path) -> None:
    default = HFCausalLM(str(gpt2), dtype="float32")
    forced = HFCausalLM(str(gpt2), dtype="float32", add_bos_token=True)
    none = HFCausalLM(str(gpt2), dtype="float32", add_bos_token=False)
    tok, bos = default.tokenizer, default.tokenizer.bos_token_id
    request = t2t_requests()[0]
    plain = tok(request.text_context.rstrip(), add_special_tokens=False)["input_ids"]
    assert list(forced.encode(request).context) == [bos, *plain]
    assert list(none.encode(request).context) == plain
    assert list(default.encode(request).context) == own_ids(tok, request.text_context.rstrip())
    with_bos_text = dataclasses.replace(request, prefix="<bos>")
    for model in (default, forced, none):
        assert list(model.encode(with_bos_text).context) == [bos, *plain]
        empty = model.encode(with_empty_context(request))  # scored from BOS, as lm-eval does
        assert list(empty.context) == [bos]
        assert (
            list(empty.continuations[0])
            == tok(request.continuations[0])["input_ids"][-len(empty.continuations[0]) :]
        )
    prints = [m.fingerprint() for m in (default, forced, none)]
    assert len({str(sorted(p.items())) for p in prints}) == 3


# ------------------------------------------------------------------- hf-audio (zoo families)


@pytest.fixture(
    scope="module",
    params=[(f, b) for f in sorted(BUILDERS) for b in (False, True)],
    ids=lambda p: f"{p[0]}-{'bos' if p[1] else 'plain'}",
)
def family(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """(family, adds BOS, adapter): weights are never loaded, only the processor is used."""
    name, bos = request.param
    try:
        directory = BUILDERS[name](tmp_path_factory.mktemp(f"audit_{name}"))
    except ImportError as exc:
        pytest.skip(f"{name}: cannot build offline here: {str(exc).splitlines()[0]}")
    if bos:
        give_tokenizer_a_bos(directory)
    model = HFAudioLM(pretrained=str(directory), dtype="float32")
    adds = own_ids(model.tokenizer, "a")[0] == model.tokenizer.bos_token_id
    assert adds == bos, "the family's tokenizer class ignored its tokenizer.json post-processor"
    return name, bos, model


def test_t2t_input_is_the_tokenizers_own_encoding(family: tuple) -> None:
    name, bos, model = family
    for index, request in enumerate(t2t_requests()):
        unit = model._unit(index, request)
        assert (unit.context[0] == model.tokenizer.bos_token_id) == bos
        for continuation, tail in zip(request.continuations, unit.tails):
            whole = own_ids(model.tokenizer, request.text_context + continuation)
            assert unit.context + tail == whole, name


def test_s2t_input_is_the_processors_own_encoding(family: tuple, zoo_wavs: list[Path]) -> None:
    name, bos, model = family
    spec = model.spec
    for index, request in enumerate(s2t_requests(zoo_wavs[:2])):
        unit = model._unit(index, request)
        assert (unit.context[0] == model.tokenizer.bos_token_id) == bos, name
        if spec.encode_s2t is not None:  # Voxtral: ids laid out by the adapter (test_voxtral_*)
            prefix = own_ids(model.tokenizer, request.prefix)
            assert unit.context[: len(prefix)] == prefix
            continue
        samples = read_audio(request.context_audio, spec.sampling_rate)
        for continuation, tail in zip(request.continuations, unit.tails):
            encoded = model.processor(
                text=[request.prefix + spec.placeholder + continuation],
                **{spec.audio_kwarg: [samples]},
                sampling_rate=spec.sampling_rate,
                return_tensors="pt",
            )
            assert unit.context + tail == encoded["input_ids"][0].tolist(), name


# ------------------------------------------------------------- unit-lm and the GLM-4-Voice plugin


@pytest.fixture(scope="module")
def unit_parts(tmp_path_factory: pytest.TempPathFactory, zoo_wavs: list[Path]) -> dict[str, Path]:
    """A tiny HuBERT, centroids from the zoo tones, and a joint text + unit LM."""
    from tiny_unit_models import make_centroids, make_hubert, make_unit_lm

    root = tmp_path_factory.mktemp("audit_units")
    hubert = make_hubert(root / "hubert")
    waves = [read_audio(path, 16000) for path in zoo_wavs]
    return {
        "hubert": hubert,
        "centroids": make_centroids(root / "km.npy", hubert, waves, 8),
        "lm": make_unit_lm(root / "lm", 8, joint=True),
    }


def spoken_requests(zoo_wavs: list[Path], condition: str) -> list[ContextRequest]:
    from s2sbench.core.conditions import Condition
    from s2sbench.core.item import Item, Task
    from s2sbench.requests.build import build_requests
    from s2sbench.requests.prompts import get_template

    item = Item(
        "0", "en", "The cat sat.", ("It slept.", "It flew."), 0, zoo_wavs[0], tuple(zoo_wavs[1:3])
    )
    task = Task("audit_units", "story", "en", (item,))
    return build_requests(task, Condition(condition), get_template("reference"))


@pytest.mark.parametrize("bos", [False, True])
def test_unit_lm_starts_with_what_its_tokenizer_puts_first(
    unit_parts: dict[str, Path], zoo_wavs: list[Path], tmp_path: Path, bos: bool
) -> None:
    from s2sbench.models.unit_lm import UnitLM

    lm = Path(shutil.copytree(unit_parts["lm"], tmp_path / "lm"))
    if bos:
        give_tokenizer_a_bos(lm)
    model = UnitLM(str(lm), str(unit_parts["hubert"]), str(unit_parts["centroids"]), layer=1)
    tok = model.tokenizer
    speech, text = (tok.convert_tokens_to_ids(t) for t in ("[SPEECH]", "[TEXT]"))
    lead = [tok.bos_token_id] if bos else []
    s2s = model._request(0, spoken_requests(zoo_wavs, "s2s")[0])
    assert s2s.context[: len(lead) + 1] == [*lead, speech]
    t2s_request = spoken_requests(zoo_wavs, "t2s")[0]
    t2s = model._request(0, t2s_request)
    words = tok(t2s_request.text_context, add_special_tokens=False)["input_ids"]
    assert t2s.context == [*lead, text, *words, speech]
    assert model.fingerprint()["context_prefix"] == lead


@pytest.mark.parametrize("bos", [False, True])
def test_glm4_voice_text_input_is_its_tokenizers_own(
    unit_parts: dict[str, Path], tmp_path: Path, bos: bool
) -> None:
    """GLM-4-Voice's text side (T2T) and the start of its S2T input follow its tokenizer
    (the real one puts ``[gMASK]<sop>`` first); a GPT-2 stands in for its LM."""
    from test_plugins_zoo import SIZES, K
    from tiny_models import make_tokenizer
    from transformers import GPT2Config, GPT2LMHeadModel

    from s2sbench.plugins.glm4_voice import GLM4Voice

    audio = ("<|begin_of_audio|>", "<|end_of_audio|>", *(f"<|audio_{u}|>" for u in range(K)))
    tok = make_tokenizer(tmp_path, extra_special_tokens=audio)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), **SIZES)).save_pretrained(tmp_path)
    if bos:
        give_tokenizer_a_bos(tmp_path)
    model = GLM4Voice(
        pretrained=str(tmp_path),
        trust_remote_code=True,
        speech_tokenizer="hubert",
        hubert=str(unit_parts["hubert"]),
        centroids=str(unit_parts["centroids"]),
        layer=1,
    )
    for index, request in enumerate(t2t_requests()):
        unit = model._request(index, request)
        for continuation, tail in zip(request.continuations, unit.tails):
            assert unit.context + tail == own_ids(
                model.tokenizer, request.text_context + continuation
            )
    assert model.start == ([model.tokenizer.bos_token_id] if bos else [])
