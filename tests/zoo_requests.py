"""Requests and the reference loss shared by the audio-LLM tests (test_hf_audio,
test_model_zoo, test_granite_speech).

Four short English stories with 2-3 endings each; their audio is the ``zoo_wavs``
fixture of conftest.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.item import Item, Task
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import get_template

STORIES = (
    ("The cat sat on the mat.", ("It was happy.", "It flew to the moon.", "Then it slept.")),
    ("She went to the market.", ("She bought bread.", "She ate the sun.")),
    ("After the rain stopped, the children ran outside.", ("They played.", "They cried.")),
    ("Tom forgot his keys.", ("He waited.", "He sang.")),
)


def zoo_requests(condition: Condition, audio: list[Path] | None = None) -> list[ContextRequest]:
    """The stories under ``condition``; with ``audio``, one file per story (as many as given)."""
    stories = STORIES if audio is None else STORIES[: len(audio)]
    items = tuple(
        Item(str(i), "en", text, conts, 0, context_audio=None if audio is None else audio[i])
        for i, (text, conts) in enumerate(stories)
    )
    task = Task("zoo_story", "story", "en", items)
    return build_requests(task, condition, get_template("reference"))


def s2t_requests(audio: list[Path]) -> list[ContextRequest]:
    return zoo_requests(Condition.S2T, audio)


def t2t_requests() -> list[ContextRequest]:
    return zoo_requests(Condition.T2T)


def scores_of(model: Any, requests: list[ContextRequest]) -> list[list]:
    """Every request's scores, in request order (the adapter yields them as batches finish)."""
    out = dict(model.score(requests))
    assert sorted(out) == list(range(len(requests)))
    return [out[i] for i in range(len(requests))]


def masked_logprob_sum(logits: Any, labels: Any) -> tuple[float, int]:
    """(sum of log p(label), label count) over one row's positions whose label is not -100:
    the loss of a hand-built forward with an explicit label mask, as a training loop takes it
    (logits at position t predict the label at t + 1)."""
    import torch

    logprobs = torch.log_softmax(logits[0, :-1].float(), dim=-1)
    targets = labels[0, 1:]
    keep = targets != -100
    picked = logprobs[keep].gather(-1, targets[keep][:, None])
    return float(picked.sum()), int(keep.sum())
