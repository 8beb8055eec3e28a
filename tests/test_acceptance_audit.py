"""Acceptance audit of issues 13 and 16: checks that had no test of their own.

* Issue 13 asks for every adapter that tokenizes text to be audited token by token, hf-cascade
  included. The cascade hands ``transcript + joiner + continuation`` to its LM: these tests
  check, with an LM tokenizer that puts ``<bos>`` first and with one that does not, that the
  LM reads exactly its own tokenizer's encoding of that text, and that ``lm_add_bos_token``
  overrides it.
* Issue 16 asks for the output layer to run only at the positions whose log-prob is read on
  every path, audio included. These tests count the rows that reach the output layer of a
  tiny Qwen2-Audio on both of ``hf-audio``'s paths (shared context and full sequences).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from test_tokenization_audit import give_tokenizer_a_bos, own_ids  # noqa: E402
from tiny_audio_models import make_qwen2_audio, make_whisper  # noqa: E402
from tiny_models import make_gpt2  # noqa: E402
from zoo_requests import s2t_requests, t2t_requests  # noqa: E402

from s2sbench.core.context_request import ContextRequest  # noqa: E402
from s2sbench.models.hf_audio import HFAudioLM  # noqa: E402
from s2sbench.models.hf_cascade import HFCascade  # noqa: E402

# ----------------------------------------------------------------- hf-cascade, token by token


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_whisper(tmp_path_factory.mktemp("audit_whisper"))


@pytest.fixture(scope="module", params=["as built", "adds <bos>"])
def lm_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = make_gpt2(tmp_path_factory.mktemp("audit_cascade_lm"))
    if request.param == "adds <bos>":
        give_tokenizer_a_bos(directory)
    return directory


def lm_inputs(cascade: HFCascade, requests: list[ContextRequest]) -> list[tuple[Any, Any]]:
    """(text request, its encoding) for every request the cascade's LM encodes while scoring."""
    seen: list[tuple[Any, Any]] = []
    encode = cascade.lm.encode

    def spy(request: ContextRequest) -> Any:
        encoded = encode(request)
        seen.append((request, encoded))
        return encoded

    cascade.lm.encode = spy  # type: ignore[method-assign]
    dict(cascade.score(requests))
    return seen


@pytest.mark.parametrize("lm_add_bos_token", [None, True, False])
def test_hf_cascade_lm_reads_its_tokenizers_own_encoding_of_the_transcript(
    whisper_dir: Path, lm_dir: Path, zoo_wavs: list[Path], lm_add_bos_token: bool | None
) -> None:
    cascade = HFCascade(
        asr=str(whisper_dir),
        lm=str(lm_dir),
        dtype="float32",
        batch_size=4,
        lm_add_bos_token=lm_add_bos_token,
    )
    tok = cascade.lm.tokenizer
    adds_bos = own_ids(tok, "a")[0] == tok.bos_token_id
    reads_bos = adds_bos if lm_add_bos_token is None else lm_add_bos_token
    requests = [*s2t_requests(zoo_wavs[:3]), *t2t_requests()[:2]]
    seen = lm_inputs(cascade, requests)
    assert len(seen) == len(requests)  # encoded in request order: three transcripts, two texts
    transcripts = [text.text_context for text, _ in seen[:3]]
    assert any(t.strip() for t in transcripts), "the tiny ASR heard nothing: nothing to check"
    for text, encoded in seen:
        assert text.context_audio is None and text.prefix == ""  # the LM reads text only
        context = list(encoded.context)
        assert (context[:1] == [tok.bos_token_id]) == reads_bos, text.text_context
        for continuation, tail in zip(text.continuations, encoded.continuations, strict=True):
            whole = context + list(tail)
            if lm_add_bos_token is None:  # the tokenizer's own special tokens, nothing else
                assert whole == own_ids(tok, text.text_context + continuation)
            else:
                plain = tok(text.text_context + continuation, add_special_tokens=False)
                assert whole == [tok.bos_token_id] * reads_bos + plain["input_ids"]
    prints = cascade.fingerprint()["lm"]
    assert prints["context_prefix"] == ([tok.bos_token_id] if reads_bos else [])


# ------------------------------------------------- hf-audio: the output layer at read rows only


class RowCounter:
    """Wraps a model's output layer and counts the hidden-state rows that reach it."""

    def __init__(self, model: Any):
        import torch

        self.rows = 0
        head = model.get_output_embeddings()

        def count(_module: Any, args: tuple[Any, ...]) -> None:
            states = args[0]
            self.rows += int(torch.tensor(states.shape[:-1]).prod())

        self.handle = head.register_forward_pre_hook(count)


@pytest.fixture(scope="module")
def qwen2_audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_qwen2_audio(tmp_path_factory.mktemp("audit_qwen2_audio"))


@pytest.mark.parametrize("reuse_context", [True, False], ids=["shared-context", "full-sequence"])
@pytest.mark.parametrize("condition", ["t2t", "s2t"])
def test_hf_audio_runs_the_output_layer_only_at_read_positions(
    qwen2_audio_dir: Path, zoo_wavs: list[Path], reuse_context: bool, condition: str
) -> None:
    model = HFAudioLM(
        pretrained=str(qwen2_audio_dir), dtype="float32", batch_size=3, reuse_context=reuse_context
    )
    requests = t2t_requests() if condition == "t2t" else s2t_requests(zoo_wavs[:4])
    tails = [model._unit(i, r).tails for i, r in enumerate(requests)]
    read = sum(len(tail) for request in tails for tail in request)
    # a shared context's last position predicts every continuation's first token: read once
    rows = sum(1 + sum(len(t) - 1 for t in ts) for ts in tails) if reuse_context else read
    counter = RowCounter(model.model)
    try:
        scores = dict(model.score(requests))
    finally:
        counter.handle.remove()
    assert sum(s.n_tokens for got in scores.values() for s in got) == read
    assert counter.rows == rows  # never a context position but the last, never a padded one
