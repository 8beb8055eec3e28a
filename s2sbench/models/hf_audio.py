"""``hf-audio``: audio LLMs (audio + text in, text logits out): Qwen2-Audio, Audio Flamingo 3,
Qwen2.5-Omni / Qwen3-Omni thinkers, Phi-4-multimodal, Gemma 3n, Voxtral, Granite Speech (see
:mod:`audio_specs`, docs/models.md).

One model gives both conditions, so their gap is the model's own. S2T reads
``prefix + <audio placeholder> + continuation`` (the processor expands the
placeholder to one audio token per encoder frame); T2T reads
``request.text_context + continuation``, text only.

Only continuation tokens are scored: the tail of ``tok(context + continuation)``
beyond ``tok(context)``, which must be an exact prefix (else a token spans the
join) and leave a non-empty tail, or the item is named in a ModelError. For
S2T the input is the processor's expanded context ids + that tail (the
placeholder ends in a special token, so nothing merges across it).

Each context audio is decoded and featurised once per request (the request's *extras*). Scoring
is the package's one token scorer (:class:`~s2sbench.models.context_scorer.ContextScorer` driving
:class:`~s2sbench.models.causal_scoring.TokenScorer`) with this adapter's inputs and head pieces
(:mod:`audio_pieces`): by default the contexts of a batch run once (audio encoder included) and
their continuations read a fresh batch-expanded copy of that KV cache; ``reuse_context=False``, a
cache that cannot be copied, or a request longer than the model's sliding window (Gemma 3n:
routed per request) scores full sequences, by :class:`ContextReuse`'s one rule. Both give the
same numbers (tested), and the output layer runs at the read positions only. Text is padded by
the scorer (contexts on the left for the shared path, full sequences on ``padding_side``), never
by a processor (whose ``padding_side`` would also flip audio features), with position ids that
count real tokens only; audio keeps the feature extractor's padding (features padded per request
are zero-padded to the batch's widest, masks included). No cache outlives its batch. Models with
multimodal rotary positions (``spec.mrope``) get no hand-built position ids (so no cache reuse)
and their per-call ``rope_deltas`` are cleared around every forward.
Families whose audio encoder depends on padding (``spec.embed_rows``: Phi-4, Granite Speech)
get every audio encoded alone; families that switch weights by modality
(``spec.set_audio_mode``: Granite's audio-only LoRA) are told per batch, and text and audio
requests are batched apart; families whose processor takes no audio with plain text
(``spec.encode_s2t``: Voxtral) build their S2T ids themselves; and a text model's final logit
soft-cap (Gemma 3n) is applied before the log-softmax, as the model's own logits apply it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ConfigError, ModelError
from s2sbench.core.model_settings import dtype_name, model_max_length
from s2sbench.core.scoring import ContinuationScore
from s2sbench.data.audio import AudioLoader, check_policy
from s2sbench.models.audio_families.inputs import (
    check_processor,
    encode_text_request,
    encode_with_processor,
)
from s2sbench.models.audio_pieces import AudioInputs, BackboneHead
from s2sbench.models.audio_specs import AudioLMSpec, spec_for
from s2sbench.models.batching import AutoBatcher
from s2sbench.models.causal_scoring import TokenScorer
from s2sbench.models.context_scorer import ContextReuse, ContextScorer
from s2sbench.models.memory_budget import cap_auto_batch
from s2sbench.models.text_encoding import EncodedRequest, check_long_context, with_truncation
from s2sbench.models.token_scoring import Scored, TokenUnit, padding_id
from s2sbench.models.transformers_base import TransformersAdapter

log = logging.getLogger(__name__)

WINDOW = 256  # requests featurised ahead of scoring: bounds memory, keeps batches full


@dataclass
class Unit(TokenUnit):
    """One request: context ids (audio tokens expanded), each continuation's ids, audio inputs."""

    audio: dict[str, Any] | None


class HFAudioLM(TransformersAdapter):
    """Audio LLM adapter; the family's quirks come from :mod:`audio_specs`."""

    name = "hf-audio"
    summary = "audio LLMs that read audio + text (docs/models.md)"
    conditions = ("t2t", "s2t", "none")

    def __init__(
        self,
        pretrained: str,
        batch_size: int | str | None = None,
        long_audio: str = "error",
        reuse_context: bool = True,
        padding_side: str = "left",
        long_context: str = "error",
        **_runtime: Any,
    ):  # + the load arguments (dtype, device, revision, ...: TransformersAdapter)
        import transformers
        from transformers import AutoProcessor

        self.pretrained = str(pretrained)
        self.batcher: AutoBatcher[Any, Any] = AutoBatcher(batch_size)
        if padding_side not in ("left", "right"):
            raise ConfigError(f"padding_side must be left or right, not '{padding_side}'")
        self.padding_side = padding_side
        self.long_audio = check_policy(long_audio)
        self.load_options(self.pretrained)
        config = self.options.config()
        self.spec: AudioLMSpec = spec_for(getattr(config, "model_type", None), self.pretrained)
        self._config = config  # families that lay out S2T ids themselves read it
        # reusing a context cache needs hand-built position ids: never for multimodal rotary ones
        enabled = bool(reuse_context) and not self.spec.mrope
        self.reuse = ContextReuse(enabled, config, self.pretrained)  # the one fallback rule
        self._dtype = dtype_name(self.options.dtype, config)
        self.weights = self.options.lazy(getattr(transformers, self.spec.model_class), self._loaded)
        self.processor = self.options.preprocessor(AutoProcessor)
        self.tokenizer = self.processor.tokenizer
        self.tokenizer.padding_side = "right"
        check_processor(self.processor, self.spec, self.pretrained)
        tok = self.tokenizer
        self.start_id = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        self.pad_id = padding_id(tok, self.start_id)
        self.loader = AudioLoader(self.spec.sampling_rate, self.spec.max_seconds, self.long_audio)
        self.long_context = check_long_context(long_context)  # T2T text beyond the LM's window
        self.max_length = model_max_length(SimpleNamespace(config=config), tok)
        self._truncated: dict[int, int] = {}
        self.scorer = ContextScorer(
            lambda: self.model, self.pad_id, padding_side, self.batcher, self.reuse, self._scorer
        )

    def _scorer(self, model: Any) -> TokenScorer:
        """The one token scorer with this adapter's pieces: audio inputs, backbone head."""
        inputs, head = AudioInputs(model, self.spec), BackboneHead(model)
        return TokenScorer(model, self.pad_id, self.padding_side, inputs, head)

    def load(self) -> Any:
        """The weights, loaded on first use (see ``LoadOptions``)."""
        return self.weights.get()

    def _loaded(self, model: Any) -> None:
        """Checks freshly loaded weights: the head runs the backbone itself."""
        if getattr(model, "model", None) is None:
            raise ModelError(
                f"{self.spec.model_class} has no .model backbone", where=self.pretrained
            )
        if self.spec.check_loaded is not None:
            self.spec.check_loaded(model, self.pretrained)

    def fingerprint_facts(self) -> dict[str, Any]:
        return {
            **super().fingerprint_facts(),
            "dtype": self._dtype,
            "model_type": self.spec.model_type,
            "placeholder": self.spec.placeholder,
            **({"long_context": "truncate"} if self.long_context == "truncate" else {}),
        }

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if condition.continuation_is_speech:
            return "hf-audio scores text continuations only (T2T and S2T)"
        return None

    def _unit(self, index: int, request: ContextRequest) -> Unit:
        """One request's token ids; its audio is decoded and featurised once, here."""
        where = f"task {request.task}, item {request.item_id}"
        if request.context_text is not None:
            ids, tails, cut = encode_text_request(
                self.tokenizer, request, self.start_id, self.max_length, self.long_context
            )
            if cut:
                self._truncated[index] = cut
            return Unit(index, ids, tails, None)
        if request.context_audio is None:
            raise ModelError("request has neither context text nor audio", where=where)
        pieces = self.loader.load(Path(request.context_audio))
        if self.spec.encode_s2t is not None:
            ids, tails, audio = self.spec.encode_s2t(
                self.processor, self._config, request.prefix, pieces, request.continuations, where
            )
            return Unit(index, ids, tails, audio)
        ids, tails, audio = encode_with_processor(
            self.processor, self.spec, request.prefix, pieces, request.continuations, where
        )
        return Unit(index, ids, tails, audio)

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[Scored]:
        """Requests in windows of ``WINDOW`` (a window's audio features are held at once),
        scored by :attr:`scorer`. Text and audio requests are scored apart, so a family can
        switch modes per batch (Granite's LoRA); within each, requests that share their
        context and requests scored as full sequences are batched apart by the scorer."""
        for start in range(0, len(requests), WINDOW):
            stop = min(start + WINDOW, len(requests))
            units = [self._unit(i, requests[i]) for i in range(start, stop)]
            if units:  # the longest batch runs first: size auto batches for it
                tails = max(len(tail) for unit in units for tail in unit.tails)
                cap_auto_batch(self.batcher, self.model, max(u.longest for u in units), tails)
            for heard in (False, True):
                group = [unit for unit in units if (unit.audio is not None) == heard]
                if not group:
                    continue
                if self.spec.set_audio_mode is not None:  # every batch of this group
                    self.spec.set_audio_mode(self.model, heard)
                encoded = [
                    EncodedRequest(tuple(u.context), tuple(map(tuple, u.tails)), extras=u.audio)
                    for u in group
                ]
                for i, sums in self.scorer.score(encoded):
                    unit = group[i]
                    scores = [ContinuationScore(s, len(t)) for s, t in zip(sums, unit.tails)]
                    yield (
                        unit.request,
                        with_truncation(scores, self._truncated.pop(unit.request, 0)),
                    )

    @property
    def reuse_context(self) -> bool:
        return self.reuse.enabled

    @property
    def _window(self) -> int | None:
        """The sliding window requests were routed by (None: no window, or no reuse)."""
        return self.reuse.limit() if self.reuse.enabled else None
