"""Baichuan-Audio (the S2SBench paper's own model) with the reference harness's input.

The reference S2T input is one string per continuation::

    <prefix><audio_start_baichuan>{"path": "<wav>"}<audio_end_baichuan><trainable_start>
    <continuation><trainable_end>

(one line), given to the processor the checkpoint's own code binds to the
model (``model.bind_processor(tokenizer, training=False, relative_path="/")``).
That processor loads the audio, expands it to audio-pad tokens and returns
``input_ids``, left-padded ``attention_mask``, ``labels`` (the trainable span
only, ``-100`` elsewhere), ``audios``, ``encoder_length`` and
``bridge_length``. Positions count real tokens only (left padding), as the
reference builds them. T2T reads ``prefix + context`` followed by the
trainable span ``joiner + continuation``, as the reference T2T harness does.

Scores are summed log-probs over the labelled positions and their count;
the reference's mean divides by the labelled positions that are not
multimodal special tokens, which is the same count when the trainable span
is plain text (it always is here). Everything this adapter does is covered
by tests with a small stand-in checkpoint that implements that processor
contract; the real Baichuan-Audio code was not run here (no weights, no GPU).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.core.model_settings import dtype_name
from s2sbench.core.scoring import ContinuationScore
from s2sbench.models.batching import AutoBatcher, positions_from_mask
from s2sbench.models.token_scoring import Scored, score_units
from s2sbench.models.transformers_base import TransformersAdapter
from s2sbench.plugins import require_remote_code

AUDIO_START, AUDIO_END = "<audio_start_baichuan>", "<audio_end_baichuan>"
TRAINABLE_START, TRAINABLE_END = "<trainable_start>", "<trainable_end>"
FEATURE_KEYS = ("audios", "encoder_length", "bridge_length")


def audio_span(path: str | Path) -> str:
    """The reference's audio reference: the JSON object with the file's absolute path."""
    body = json.dumps({"path": str(Path(path).resolve())}, ensure_ascii=False)
    return f"{AUDIO_START}{body}{AUDIO_END}"


def reference_input(request: ContextRequest, continuation: str) -> str:
    """The reference harness's string for one continuation of ``request``.

    For a text context the joiner goes *inside* the trainable span, as in the
    reference T2T harness (``first + '<trainable_start> ' + last`` in English).
    """
    if request.context_text is None:
        context, joiner = request.prefix + audio_span(request.spoken_context), ""
    else:
        context, joiner = request.prefix + request.context_text, request.joiner
    return f"{context}{TRAINABLE_START}{joiner}{continuation}{TRAINABLE_END}"


@dataclass
class Job:
    """One request: its reference strings, one per continuation."""

    request: int
    texts: list[str]

    @property
    def longest(self) -> int:
        return max(len(t) for t in self.texts)

    @property
    def rows(self) -> int:
        return len(self.texts)


class BaichuanAudio(TransformersAdapter):
    """S2T and T2T scoring of Baichuan-Audio checkpoints through their own processor."""

    name = "baichuan-audio"
    summary = "Baichuan-Audio with the reference harness's input strings"
    conditions = ("t2t", "s2t", "none")

    def __init__(
        self,
        pretrained: str,
        batch_size: int | str | None = None,
        relative_path: str = "/",
        **_runtime: Any,
    ):  # + the load arguments (dtype, device, revision, ...: TransformersAdapter)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        load = self.load_options(str(pretrained))
        require_remote_code(load.trust_remote_code, "Baichuan-Audio", pretrained)  # so it is True
        self.pretrained, self.revision = load.pretrained, load.revision
        self._dtype = dtype_name(load.dtype, self.options.config())
        self.tokenizer = self.options.preprocessor(AutoTokenizer)
        self.relative_path = relative_path
        self.weights = self.options.lazy(AutoModelForCausalLM, self._bind)
        self.batcher: AutoBatcher[Job, list[Scored]] = AutoBatcher(batch_size)

    def _bind(self, model: Any) -> None:
        """The checkpoint's own processor, bound to freshly loaded weights."""
        if not callable(getattr(model, "bind_processor", None)):
            raise ModelError(
                f"{type(model).__name__} has no bind_processor(): not a Baichuan-Audio model",
                where=self.pretrained,
                hint="use hf-audio or hf for transformers-native models",
            )
        model.bind_processor(self.tokenizer, training=False, relative_path=self.relative_path)

    @property
    def processor(self) -> Any:
        return self.model.processor

    def fingerprint_facts(self) -> dict[str, Any]:
        return {
            **super().fingerprint_facts(),
            "dtype": self._dtype,
            "input": "reference (audio_start_baichuan json path, trainable span)",
        }

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if condition.continuation_is_speech:
            return (
                "the Baichuan-Audio plugin scores text continuations (T2T, S2T) as the reference "
                "harness does; spoken continuations are not part of its input format"
            )
        return None

    def _forward(self, jobs: list[Job]) -> list[Scored]:
        import torch

        texts = [text for job in jobs for text in job.texts]
        batch = self.processor(texts)
        device = self.model.device
        ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
        labels = batch["labels"].to(device)
        extra = {key: batch[key].to(device) for key in FEATURE_KEYS if batch.get(key) is not None}
        if "audios" in extra and extra["audios"].is_floating_point():
            extra["audios"] = extra["audios"].to(self.model.dtype)
        with torch.inference_mode():
            logits = self.model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions_from_mask(mask),
                **extra,
            ).logits
            targets = labels[:, 1:]
            keep = targets >= 0
            logprobs = logits[:, :-1].float().log_softmax(-1)
            picked = logprobs.gather(-1, targets.clamp(min=0)[..., None]).squeeze(-1)
            sums = torch.where(keep, picked, torch.zeros_like(picked)).double().sum(1).tolist()
            counts = keep.sum(1).tolist()
        if min(counts) == 0:
            raise ModelError(
                "the processor labelled no continuation tokens",
                where=self.pretrained,
                hint="the checkpoint's processor does not honour <trainable_start>...",
            )
        flat = iter(zip(sums, counts))
        return [(job.request, [ContinuationScore(*next(flat)) for _ in job.texts]) for job in jobs]

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[Scored]:
        """Every continuation of a request in one processor call and forward."""
        jobs = [
            Job(i, [reference_input(r, c) for c in r.continuations]) for i, r in enumerate(requests)
        ]
        yield from score_units(self.batcher, jobs, self._forward)
