"""GLM-4-Voice style models: discrete speech tokens are ordinary tokens of the LM vocabulary.

:class:`AudioTokenLM` is the shared part (Kimi-Audio reuses it). Speech
becomes ids through a *speech tokenizer*, then LM ids through
:meth:`AudioTokenLM.audio_ids` (GLM-4-Voice: the token ``<|audio_{n}|>``),
wrapped in the family's begin/end-of-audio tokens. Inputs per condition:

* context: spoken -> ``prefix + <begin> audio ids <end>``; text -> ``text_context``
* continuation: spoken -> ``<begin> audio ids`` with only the audio ids scored
  (the begin marker is context; no end marker is read); text -> its tokens
  after the context (the context must stay an exact token prefix).

Speech tokenizers: ``speech_tokenizer=glm`` runs GLM-4-Voice's own
WhisperVQ tokenizer (``speech_tokenizer.utils.extract_speech_token`` from the
GLM-4-Voice repository, which must be importable, with the weights directory
as ``speech_tokenizer_path=``); ``speech_tokenizer=hubert`` uses
:class:`SpeechUnitEncoder` (``hubert=``, ``centroids=``, ``layer=``), which is
what the tests use with a tiny stand-in LM. The real GLM-4-Voice weights and
tokenizer were not run here.

Scoring is the package's one token scorer, as ``unit-lm``'s: a plain causal LM
through :class:`~s2sbench.models.context_scorer.ContextScorer`, each context once
with its continuations on a copy of its cache, full sequences by
:class:`ContextReuse`'s one fallback rule (``reuse_context=False``, a sliding window
too short, a cache that cannot be copied).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.core.model_settings import dtype_name
from s2sbench.core.scoring import ContinuationScore
from s2sbench.models.audio_families.inputs import split_continuation
from s2sbench.models.batching import AutoBatcher
from s2sbench.models.context_scorer import ContextReuse, ContextScorer
from s2sbench.models.text_encoding import EncodedRequest, tokenizer_special_tokens
from s2sbench.models.token_scoring import Scored, TokenUnit, padding_id
from s2sbench.models.transformers_base import LOADED_ARGS, TransformersAdapter
from s2sbench.plugins import require_remote_code


class GLMSpeechTokenizer:
    """GLM-4-Voice's WhisperVQ speech tokenizer (12.5 tokens/s), through its own repository code."""

    def __init__(self, path: str, device: str | None = None):
        try:
            modeling = importlib.import_module("speech_tokenizer.modeling_whisper")
            self._extract = importlib.import_module("speech_tokenizer.utils").extract_speech_token
        except ImportError as exc:
            raise ModelError(
                f"GLM-4-Voice's speech tokenizer code is not importable ({exc})",
                hint="put a checkout of github.com/THUDM/GLM-4-Voice on PYTHONPATH",
            ) from None
        from transformers import WhisperFeatureExtractor

        from s2sbench.core.model_settings import pick_device

        self.path = str(path)
        self.model = modeling.WhisperVQEncoder.from_pretrained(path).eval()
        self.model = self.model.to(pick_device(device))
        self.features = WhisperFeatureExtractor.from_pretrained(path)

    def fingerprint(self) -> dict[str, Any]:
        return {"speech_tokenizer": "glm-whisper-vq", "path": self.path}

    def units(self, path: str | Path) -> list[int]:
        return list(self._extract(self.model, self.features, [str(path)])[0])


def make_speech_tokenizer(kind: str, args: dict[str, Any], device: str | None) -> Any:
    """``glm`` (the family's own) or ``hubert`` (HuBERT + k-means units) speech tokenizer."""
    if kind == "glm":
        if not args.get("speech_tokenizer_path"):
            raise ModelError(
                "speech_tokenizer=glm needs speech_tokenizer_path=<glm-4-voice-tokenizer dir>"
            )
        return GLMSpeechTokenizer(args["speech_tokenizer_path"], device)
    if kind == "hubert":
        from s2sbench.models.speech_units import SpeechUnitEncoder

        missing = [key for key in ("hubert", "centroids") if not args.get(key)]
        if missing:
            raise ModelError(f"speech_tokenizer=hubert needs {', '.join(missing)}=")
        return SpeechUnitEncoder(
            args["hubert"], args["centroids"], int(args.get("layer", 6)), device=device
        )
    raise ModelError(f"unknown speech_tokenizer '{kind}'", hint="use glm or hubert")


class AudioTokenLM(TransformersAdapter):
    """A causal LM whose vocabulary holds the speech tokens; all four conditions."""

    name = "audio-token-lm"
    family = "audio-token LM"
    begin_token = "<|begin_of_audio|>"
    end_token = "<|end_of_audio|>"
    model_loader = "AutoModelForCausalLM"
    summary = "a causal LM whose vocabulary holds speech tokens"
    conditions: ClassVar[tuple[str, ...]] = ("t2t", "s2t", "s2s", "t2s", "none")
    identified_args = LOADED_ARGS | {"speech_tokenizer"}  # named by its own fingerprint

    def __init__(
        self,
        pretrained: str,
        speech_tokenizer: str = "glm",
        batch_size: int | str | None = None,
        reuse_context: bool = True,
        **options: Any,
    ):  # + the load arguments (dtype, device, revision, ...: TransformersAdapter)
        import transformers

        load = self.load_options(str(pretrained))
        require_remote_code(load.trust_remote_code, self.family, pretrained)  # so it is True
        self.pretrained, self.revision = load.pretrained, load.revision
        self.config = self.options.config()
        self._dtype = dtype_name(load.dtype, self.config)
        self.weights = self.options.lazy(getattr(transformers, self.model_loader))
        self.tokenizer = self.options.preprocessor(transformers.AutoTokenizer)
        self.speech = make_speech_tokenizer(speech_tokenizer, options, load.device)
        self.begin_id, self.end_id = self._markers()
        tok = self.tokenizer
        self.pad_id = padding_id(tok)
        self.start = list(tokenizer_special_tokens(tok)[0])  # its own BOS / [gMASK]<sop>
        self.batcher: AutoBatcher[Any, Any] = AutoBatcher(batch_size)
        self.scorer = self._context_scorer(bool(reuse_context))

    def _context_scorer(self, reuse_context: bool) -> ContextScorer:
        """A plain causal LM's scorer: shared context by default (padding never changes a
        score; right, as ``unit-lm``'s)."""
        reuse = ContextReuse(reuse_context, self.config, self.pretrained)
        return ContextScorer(lambda: self.model, self.pad_id, "right", self.batcher, reuse)

    def _markers(self) -> tuple[int, int]:
        """Ids of the begin/end-of-audio tokens that wrap every speech segment."""
        return self._single(self.begin_token), self._single(self.end_token)

    def _single(self, token: str) -> int:
        found = self.tokenizer.convert_tokens_to_ids(token)
        if found is None or found == self.tokenizer.unk_token_id:
            raise ModelError(
                f"the tokenizer has no '{token}' token: not a {self.family} checkpoint",
                where=self.pretrained,
            )
        return int(found)

    def audio_ids(self, units: list[int]) -> list[int]:
        """LM ids of speech-tokenizer ids: GLM-4-Voice names them ``<|audio_{n}|>``."""
        ids = self.tokenizer.convert_tokens_to_ids([f"<|audio_{u}|>" for u in units])
        if any(i is None or i == self.tokenizer.unk_token_id for i in ids):
            raise ModelError(
                f"speech token outside the LM's audio vocabulary (max {max(units)})",
                where=self.pretrained,
                hint="the speech tokenizer does not match this LM",
            )
        return list(ids)

    def fingerprint_facts(self) -> dict[str, Any]:
        facts = super().fingerprint_facts()
        return {**facts, "dtype": self._dtype, "speech": self.speech.fingerprint()}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return None

    def _speech(self, path: Any, where: str) -> list[int]:
        units = self.speech.units(path)
        if not units:
            raise ModelError(f"no speech tokens from {path}", where=where, hint="check the audio")
        return self.audio_ids(units)

    def _text(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _request(self, index: int, request: ContextRequest) -> TokenUnit:
        where = f"task {request.task}, item {request.item_id}"
        if request.continuation_audio is not None:
            if request.context_text is None:
                context = self._text(request.prefix) + [self.begin_id]
                context += self._speech(request.context_audio, where) + [self.end_id]
            else:
                context = self._text(request.text_context.rstrip())
            tails = [self._speech(p, where) for p in request.continuation_audio]
            return TokenUnit(index, self.start + context + [self.begin_id], tails)
        if request.context_text is None:
            audio = [self.begin_id, *self._speech(request.context_audio, where), self.end_id]
            context = self.start + self._text(request.prefix) + audio
            tails = [self._text(c) for c in request.continuations]
            if not all(tails):
                raise ModelError("a continuation has no tokens", where=where)
            return TokenUnit(index, context, tails)
        split = [
            split_continuation(self.tokenizer, request.text_context, c, where)
            for c in request.continuations
        ]
        # the tokenizer's own special tokens (BOS, [gMASK]<sop>) are already in split's context
        return TokenUnit(index, split[0][0] or self.start, [tail for _, tail in split])

    def _encoded(self, unit: TokenUnit) -> EncodedRequest:
        """``unit`` as the scorer reads it (a subclass may add extras)."""
        return EncodedRequest(tuple(unit.context), tuple(tuple(tail) for tail in unit.tails))

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[Scored]:
        """Every refusal before any forward, then through :attr:`scorer`."""
        units = [self._request(i, r) for i, r in enumerate(requests)]
        encoded = [self._encoded(unit) for unit in units]
        for index, sums in self.scorer.score(encoded):
            tails = encoded[index].continuations
            yield index, [ContinuationScore(s, len(tail)) for s, tail in zip(sums, tails)]


class GLM4Voice(AudioTokenLM):
    """GLM-4-Voice-9B (ChatGLM remote code; ``<|audio_n|>`` speech tokens at 12.5 Hz)."""

    name = "glm4-voice"
    family = "GLM-4-Voice"
    model_loader = "AutoModelForCausalLM"
