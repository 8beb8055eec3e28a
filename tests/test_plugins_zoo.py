"""Remote-code plugins (Baichuan-Audio, GLM-4-Voice, Kimi-Audio) on tiny local stand-ins.

The stand-ins implement each family's public interface (see standin_remote_code.py)
and are loaded through ``auto_map`` + ``trust_remote_code`` like the real
checkpoints. Per plugin: refusal without --trust-remote-code, (a) scores equal
a hand-built forward with an explicit label mask, (b) batch size 1 vs 4 agree,
(c) changing the audio changes the score.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("transformers")

# parts and spoken_task are session fixtures shared with test_unit_lm (same HuBERT, same audio)
from test_unit_lm import (  # noqa: E402,F401
    masked_logprob_sum,
    parts,
    reference_units,
    requests_for,
    run,
    spoken_task,
)
from tiny_models import make_tokenizer  # noqa: E402
from tiny_unit_models import LAYER  # noqa: E402

from s2sbench.core.conditions import Condition
from s2sbench.core.errors import ModelError
from s2sbench.plugins.baichuan_audio import BaichuanAudio, reference_input  # noqa: E402
from s2sbench.plugins.glm4_voice import GLM4Voice  # noqa: E402
from s2sbench.plugins.kimi_audio import KimiAudio  # noqa: E402

TOL = 1e-5
K = 24
CODE = Path(__file__).with_name("standin_remote_code.py")
BAICHUAN_TOKENS = (
    "<audio_start_baichuan>",
    "<audio_end_baichuan>",
    "<trainable_start>",
    "<trainable_end>",
    "<audio_pad_baichuan>",
)
KIMI_TOKENS = ("<|im_media_begin|>", "<|im_media_end|>", "<|im_kimia_text_blank|>")
SIZES = {"n_positions": 1024, "n_embd": 32, "n_layer": 2, "n_head": 2}


def save_standin(directory: Path, config, model_class: str) -> Path:
    """Save a stand-in whose config maps the Auto classes to the copied code file."""
    import standin_remote_code as code
    import torch

    config.auto_map = {
        "AutoConfig": f"standin_remote_code.{type(config).__name__}",
        "AutoModelForCausalLM": f"standin_remote_code.{model_class}",
    }
    torch.manual_seed(0)
    getattr(code, model_class)(config).save_pretrained(directory, safe_serialization=True)
    shutil.copy(CODE, directory / CODE.name)
    saved = json.loads((directory / "config.json").read_text())
    assert "auto_map" in saved  # loading really needs --trust-remote-code
    return directory


@pytest.fixture(scope="session")
def baichuan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from standin_remote_code import StandInBaichuanConfig

    directory = tmp_path_factory.mktemp("baichuan_standin")
    tok = make_tokenizer(directory, extra_special_tokens=BAICHUAN_TOKENS)
    ids = {"pad_token_id": tok.pad_token_id, "bos_token_id": tok.bos_token_id}
    config = StandInBaichuanConfig(vocab_size=len(tok), **SIZES, **ids)
    return save_standin(directory, config, "StandInBaichuan")


@pytest.fixture(scope="session")
def glm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    directory = tmp_path_factory.mktemp("glm_standin")
    audio = ("<|begin_of_audio|>", "<|end_of_audio|>", *(f"<|audio_{u}|>" for u in range(K)))
    tok = make_tokenizer(directory, extra_special_tokens=audio)
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), **SIZES)).save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def kimi_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from standin_remote_code import StandInKimiaConfig

    directory = tmp_path_factory.mktemp("kimi_standin")
    tok = make_tokenizer(directory, extra_special_tokens=KIMI_TOKENS)
    ids = dict(
        zip(
            ("kimia_media_begin", "kimia_media_end", "kimia_text_blank"),
            map(tok.convert_tokens_to_ids, KIMI_TOKENS),
        )
    )
    config = StandInKimiaConfig(
        vocab_size=len(tok) + K, kimia_token_offset=len(tok), **ids, **SIZES
    )
    return save_standin(directory, config, "StandInKimia")


def hubert_args(parts: dict) -> dict:  # noqa: F811
    return {
        "speech_tokenizer": "hubert",
        "hubert": str(parts["hubert"]),
        "centroids": str(parts["centroids"]),
        "layer": LAYER,
    }


def test_every_plugin_refuses_without_trust_remote_code(baichuan_dir, glm_dir, kimi_dir) -> None:
    for plugin, directory in (
        (BaichuanAudio, baichuan_dir),
        (GLM4Voice, glm_dir),
        (KimiAudio, kimi_dir),
    ):
        with pytest.raises(ModelError, match="--trust-remote-code"):
            plugin(pretrained=str(directory))


# --- Baichuan-Audio ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def baichuan(baichuan_dir: Path) -> BaichuanAudio:
    return BaichuanAudio(pretrained=str(baichuan_dir), trust_remote_code=True, batch_size=4)


def test_baichuan_input_is_the_reference_string(spoken_task) -> None:  # noqa: F811
    request = requests_for(spoken_task, Condition.S2T)[0]
    text = reference_input(request, "The end.")
    path = str(Path(request.context_audio).resolve())
    assert text == (
        "Below is a segment of alternating speech and text content: <audio_start_baichuan>"
        f'{{"path": "{path}"}}<audio_end_baichuan><trainable_start>The end.<trainable_end>'
    )
    text_request = requests_for(spoken_task, Condition.T2T)[0]
    assert reference_input(text_request, "The end.") == (
        f"{text_request.context_text}<trainable_start> The end.<trainable_end>"
    )


@pytest.mark.parametrize("condition", [Condition.S2T, Condition.T2T])
def test_baichuan_a_scores_equal_labelled_loss(baichuan, spoken_task, condition) -> None:  # noqa: F811
    import torch

    requests = requests_for(spoken_task, condition)
    for request, scores in zip(requests, run(baichuan, requests)):
        for cont, score in zip(request.continuations, scores):
            batch = baichuan.processor([reference_input(request, cont)])
            labels = batch["labels"]
            scored = labels[labels != -100].tolist()
            joiner = "" if request.context_text is None else request.joiner
            # the trainable span only
            assert scored == baichuan.processor.tokenizer(joiner + cont)["input_ids"]
            with torch.no_grad():
                logits = baichuan.model(**{k: v for k, v in batch.items() if k != "labels"}).logits
            expected, n = masked_logprob_sum(logits, labels)
            assert score.n_tokens == len(scored) == n
            assert score.logprob_sum == pytest.approx(expected, abs=TOL)


def test_baichuan_b_batch_size_and_c_audio(baichuan_dir, baichuan, spoken_task) -> None:  # noqa: F811
    single = BaichuanAudio(pretrained=str(baichuan_dir), trust_remote_code=True, batch_size=1)
    requests = requests_for(spoken_task, Condition.S2T)
    for a, b in zip(run(baichuan, requests), run(single, requests)):
        assert all(abs(x.logprob_sum - y.logprob_sum) <= TOL for x, y in zip(a, b))
    swapped = dataclasses.replace(requests[0], context_audio=requests[1].context_audio)
    first, second = run(baichuan, [requests[0], swapped])
    assert all(abs(x.logprob_sum - y.logprob_sum) > 1e-4 for x, y in zip(first, second))
    assert "text continuations" in baichuan.unsupported_reason(Condition.S2S, "en")


# --- GLM-4-Voice and Kimi-Audio ---------------------------------------------------------


@pytest.fixture(scope="session")
def glm(glm_dir, parts) -> GLM4Voice:  # noqa: F811
    return GLM4Voice(
        pretrained=str(glm_dir), trust_remote_code=True, batch_size=4, **hubert_args(parts)
    )


@pytest.fixture(scope="session")
def kimi(kimi_dir, parts) -> KimiAudio:  # noqa: F811
    return KimiAudio(
        pretrained=str(kimi_dir), trust_remote_code=True, batch_size=4, **hubert_args(parts)
    )


class UnitNames:
    """Renames reference_units' ``[Hu{n}]`` tokens to a plugin's ids via ``to_id(n)``."""

    def __init__(self, to_id) -> None:
        self.to_id = to_id

    def convert_tokens_to_ids(self, token: str) -> int:
        return self.to_id(int(token.removeprefix("[Hu").removesuffix("]")))


def glm_hand_built(parts, model: GLM4Voice, request) -> list[tuple[float, int]]:  # noqa: F811
    import torch

    tok = model.tokenizer
    boa, eoa = tok.convert_tokens_to_ids(["<|begin_of_audio|>", "<|end_of_audio|>"])
    names = UnitNames(lambda u: tok.convert_tokens_to_ids(f"<|audio_{u}|>"))
    if request.context_text is None:
        context = tok(request.prefix)["input_ids"] + [boa]
        context += reference_units(parts, request.context_audio, names) + [eoa, boa]
    else:
        context = tok(request.text_context.rstrip())["input_ids"] + [boa]
    out = []
    for path in request.continuation_audio:
        ids = torch.tensor([context + reference_units(parts, path, names)])
        labels = ids.clone()
        labels[:, : len(context)] = -100
        with torch.no_grad():
            out.append(masked_logprob_sum(model.model(input_ids=ids).logits, labels))
    return out


@pytest.mark.parametrize("condition", [Condition.S2S, Condition.T2S])
def test_glm_a_b_c(glm_dir, glm, parts, spoken_task, condition) -> None:  # noqa: F811
    requests = requests_for(spoken_task, condition)
    scores = run(glm, requests)
    for request, got in zip(requests, scores):
        for score, (logprob, n) in zip(got, glm_hand_built(parts, glm, request)):
            assert score.n_tokens == n > 3
            assert score.logprob_sum == pytest.approx(logprob, abs=TOL)
    single = GLM4Voice(
        pretrained=str(glm_dir), trust_remote_code=True, batch_size=1, **hubert_args(parts)
    )
    for a, b in zip(scores, run(single, requests)):
        assert all(abs(x.logprob_sum - y.logprob_sum) <= TOL for x, y in zip(a, b))
    flipped = dataclasses.replace(
        requests[0], continuation_audio=requests[0].continuation_audio[::-1]
    )
    again = run(glm, [flipped])[0]
    assert again[1].logprob_sum == pytest.approx(scores[0][0].logprob_sum, abs=TOL)
    assert abs(again[0].logprob_sum - scores[0][0].logprob_sum) > 1e-4


def kimi_hand_built(parts, model: KimiAudio, request) -> list[tuple[float, int]]:  # noqa: F811
    import torch

    cfg = model.model.config
    blank, begin, end, offset = (
        cfg.kimia_text_blank,
        cfg.kimia_media_begin,
        cfg.kimia_media_end,
        cfg.kimia_token_offset,
    )
    names = UnitNames(lambda u: offset + u)
    if request.context_text is None:
        audio = [begin, *reference_units(parts, request.context_audio, names), end]
        text = [blank] * len(audio)
    else:
        text = model.tokenizer(request.text_context.rstrip(), add_special_tokens=False)["input_ids"]
        audio = [blank] * len(text)
    audio, text = audio + [begin], text + [blank]
    out = []
    for path in request.continuation_audio:
        tail = reference_units(parts, path, names)
        ids = torch.tensor([audio + tail])
        stream = torch.tensor([text + [blank] * len(tail)])
        with torch.no_grad():
            logits, _ = model.model(
                input_ids=ids,
                text_input_ids=stream,
                position_ids=torch.arange(ids.shape[1])[None],
                return_dict=False,
            )
        labels = ids.clone()
        labels[:, : len(audio)] = -100
        out.append(masked_logprob_sum(logits, labels))
    return out


@pytest.mark.parametrize("condition", [Condition.S2S, Condition.T2S])
def test_kimi_a_b_c(kimi_dir, kimi, parts, spoken_task, condition) -> None:  # noqa: F811
    requests = requests_for(spoken_task, condition)
    scores = run(kimi, requests)
    for request, got in zip(requests, scores):
        for score, (logprob, n) in zip(got, kimi_hand_built(parts, kimi, request)):
            assert score.n_tokens == n > 3
            assert score.logprob_sum == pytest.approx(logprob, abs=TOL)
    single = KimiAudio(
        pretrained=str(kimi_dir), trust_remote_code=True, batch_size=1, **hubert_args(parts)
    )
    for a, b in zip(scores, run(single, requests)):
        assert all(abs(x.logprob_sum - y.logprob_sum) <= TOL for x, y in zip(a, b))
    if condition is Condition.S2S:
        swapped = dataclasses.replace(requests[0], context_audio=requests[1].context_audio)
        again = run(kimi, [swapped])[0]
        assert all(abs(x.logprob_sum - y.logprob_sum) > 1e-4 for x, y in zip(again, scores[0]))


def test_kimi_refuses_text_continuations(kimi) -> None:
    assert "S2S, T2S" in kimi.unsupported_reason(Condition.S2T, "en")
    assert kimi.unsupported_reason(Condition.S2S, "zh") is None


@pytest.mark.parametrize("condition", [Condition.S2T, Condition.T2T])
def test_glm_text_continuations_match_hand_built(glm, parts, spoken_task, condition) -> None:  # noqa: F811
    import torch

    tok = glm.tokenizer
    names = UnitNames(lambda u: tok.convert_tokens_to_ids(f"<|audio_{u}|>"))
    requests = requests_for(spoken_task, condition)
    for request, got in zip(requests, run(glm, requests)):
        for cont, score in zip(request.continuations, got):
            if request.context_text is None:
                audio = reference_units(parts, request.context_audio, names)
                context = tok(request.prefix)["input_ids"] + [
                    tok.convert_tokens_to_ids("<|begin_of_audio|>"),
                    *audio,
                    tok.convert_tokens_to_ids("<|end_of_audio|>"),
                ]
                ids = context + tok(cont)["input_ids"]
            else:
                context = tok(request.text_context.rstrip())["input_ids"]
                ids = tok(request.text_context + cont)["input_ids"]
            labels = torch.tensor([ids])
            labels[:, : len(context)] = -100
            with torch.no_grad():
                logits = glm.model(input_ids=torch.tensor([ids])).logits
            expected, n = masked_logprob_sum(logits, labels)
            assert score.n_tokens == n > 0
            assert score.logprob_sum == pytest.approx(expected, abs=TOL)
