"""``unit-lm``: a causal LM over discrete speech units (TWIST / SpiritLM recipe), S2S and T2S.

Speech becomes units with :class:`SpeechUnitEncoder` (HuBERT layer ->
nearest centroid -> deduplicated); unit ``i`` is the LM token
``unit_token.format(i)`` (``[Hu{}]`` as in SpiritLM; a TWIST-style unit-only
vocabulary just names its unit tokens the same way). ``[bos]`` below is what the LM's
tokenizer itself puts before any text (SpiritLM's Llama tokenizer: ``<s>``; one that adds
no special tokens: nothing), the rule of :mod:`s2sbench.models.text_encoding`. Inputs:

* S2S: ``[bos] [SPEECH] context units + continuation units``
* T2S: ``[bos] [TEXT] tokens(text context) [SPEECH] continuation units`` --
  only for an LM with both vocabularies (a text marker token); a unit-only
  LM refuses T2S with the reason.

The text prompt prefix of a spoken context is not given to the LM: a unit LM
reads no text in S2S. Only the continuation's units are scored (their count
is ``n_tokens``); context, markers and BOS never are. Each audio file is
encoded once and alone, so units do not depend on batching; continuations
are encoded separately from their context (no deduplication across the
join), exactly as the files are given.

Scoring is :mod:`context_scorer`'s, as for ``hf``: each context's units run once
and its continuations read a copy of that KV cache (``reuse_context=False``, or a
cache that cannot be copied: full sequences, the same numbers).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.core.model_settings import dtype_name, model_max_length
from s2sbench.core.scoring import ContinuationScore
from s2sbench.models.batching import AutoBatcher
from s2sbench.models.context_scorer import ContextReuse, ContextScorer
from s2sbench.models.speech_units import SpeechUnitEncoder
from s2sbench.models.text_encoding import EncodedRequest, tokenizer_special_tokens
from s2sbench.models.token_scoring import Scored, TokenUnit, padding_id
from s2sbench.models.transformers_base import LOADED_ARGS, TransformersAdapter


class UnitLM(TransformersAdapter):
    """Scores spoken continuations with a causal LM over HuBERT k-means units."""

    name = "unit-lm"
    summary = "HuBERT units -> unit LM (TWIST/SpiritLM recipe)"
    conditions = ("s2s", "t2s")
    # the speech side is named by the unit encoder's own fingerprint (hashes, k, layer)
    identified_args = LOADED_ARGS | {"hubert", "centroids", "layer", "dedup"}
    identified_args |= {"unit_token", "speech_marker", "text_marker"}

    def __init__(
        self,
        pretrained: str,
        hubert: str,
        centroids: str,
        layer: int = 6,
        unit_token: str = "[Hu{}]",
        speech_marker: str = "[SPEECH]",
        text_marker: str = "[TEXT]",
        dedup: bool = True,
        batch_size: int | str | None = None,
        reuse_context: bool = True,
        **_runtime: Any,
    ):  # + the load arguments (dtype, device, revision, ...: TransformersAdapter)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        options = self.load_options(str(pretrained))
        self.pretrained, self.revision = options.pretrained, options.revision
        config = options.config()
        self._dtype = dtype_name(options.dtype, config)
        self.weights = self.options.lazy(AutoModelForCausalLM)
        self.tokenizer = self.options.preprocessor(AutoTokenizer)
        self.encoder = SpeechUnitEncoder(
            hubert,
            centroids,
            layer,
            dedup=dedup,
            device=options.device,
            allow_pickle=options.allow_pickle,
            allow_weight_mismatch=options.allow_weight_mismatch,
        )
        self.unit_token = unit_token
        found = [self._token_id(unit_token.format(i)) for i in range(self.encoder.k)]
        missing = [i for i, t in enumerate(found) if t is None]
        if missing:
            raise ModelError(
                f"the LM's tokenizer has no token '{unit_token.format(missing[0])}' for unit "
                f"{missing[0]} ({len(missing)} of {self.encoder.k} units missing)",
                where=self.pretrained,
                hint="the centroids' k must match the LM's unit vocabulary; check unit_token=",
            )
        self.unit_ids = [t for t in found if t is not None]  # all of them: none is missing
        self.markers = {"speech": speech_marker, "text": text_marker}
        self.speech_id = self._token_id(speech_marker)
        self.text_id = self._token_id(text_marker)
        tok = self.tokenizer
        self.bos = list(tokenizer_special_tokens(tok)[0])  # what tok(text) puts first: BOS
        self.pad_id = padding_id(tok)
        self.max_length = model_max_length(SimpleNamespace(config=config), tok)
        self.batcher: AutoBatcher[Any, Any] = AutoBatcher(batch_size)
        reuse = ContextReuse(reuse_context, config, self.pretrained)
        self.scorer = ContextScorer(lambda: self.model, self.pad_id, "right", self.batcher, reuse)

    def _token_id(self, token: str) -> int | None:
        """The id of a single vocabulary token, or None when it is not one token of the LM."""
        if not token:
            return None
        found = self.tokenizer.convert_tokens_to_ids(token)
        return None if found is None or found == self.tokenizer.unk_token_id else int(found)

    def fingerprint_facts(self) -> dict[str, Any]:
        return {
            **super().fingerprint_facts(),
            "dtype": self._dtype,
            "unit_token": self.unit_token,
            "markers": dict(self.markers),
            "context_prefix": self.bos,
            "units": self.encoder.fingerprint(),
        }

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if not condition.continuation_is_speech:
            return (
                "unit-lm scores spoken continuations only (S2S, T2S); use hf or hf-audio "
                "for text continuations"
            )
        if condition is Condition.T2S and (self.text_id is None or self.speech_id is None):
            return (
                f"T2S needs an LM with both text and unit vocabularies, marked by "
                f"'{self.markers['text']}' and '{self.markers['speech']}' tokens; "
                f"{self.pretrained} has no such tokens (a unit-only LM scores S2S only)"
            )
        return None

    def _units(self, path: Any, where: str) -> list[int]:
        units = self.encoder.units(path)
        if not units:
            raise ModelError(f"no speech units from {path}", where=where, hint="check the audio")
        return [self.unit_ids[u] for u in units]

    def _request(self, index: int, request: ContextRequest) -> TokenUnit:
        where = f"task {request.task}, item {request.item_id}"
        reason = self.unsupported_reason(request.condition, request.lang)
        if reason or request.continuation_audio is None:
            raise ModelError(reason or "request has no continuation audio", where=where)
        speech = [self.speech_id] if self.speech_id is not None else []
        if request.context_text is None:
            context = self.bos + speech + self._units(request.context_audio, where)
        else:
            text = self.tokenizer(request.text_context, add_special_tokens=False)["input_ids"]
            if self.tokenizer.unk_token_id is not None and self.tokenizer.unk_token_id in text:
                raise ModelError("the context has tokens unknown to the LM", where=where)
            context = self.bos + [self.text_id] + text + speech
        tails = [self._units(path, where) for path in request.continuation_audio]
        unit = TokenUnit(index, context, tails)
        if self.max_length is not None and unit.longest > self.max_length:
            raise ModelError(
                f"input of {unit.longest} tokens exceeds the LM's {self.max_length}",
                where=where,
                hint="use shorter audio or an LM with a longer context",
            )
        return unit

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[Scored]:
        """Through the one scorer of :mod:`context_scorer` (shared context or full sequences)."""
        units = [self._request(i, r) for i, r in enumerate(requests)]
        encoded = [
            EncodedRequest(tuple(u.context), tuple(tuple(tail) for tail in u.tails)) for u in units
        ]
        for index, sums in self.scorer.score(encoded):
            tails = encoded[index].continuations
            yield index, [ContinuationScore(s, len(tail)) for s, tail in zip(sums, tails)]
