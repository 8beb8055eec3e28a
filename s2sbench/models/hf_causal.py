"""Any ``transformers`` causal LM as a T2T scorer, with the context encoded once.

Token boundaries and special tokens follow lm-evaluation-harness (see
:mod:`s2sbench.models.text_encoding`): the model reads the tokenizer's own leading special
tokens (Gemma's ``<bos>``) + ``tok(context)`` + the continuation's own tokens, and an empty
continuation is refused by name before any forward. ``pretrained`` may name a GGUF file
(``FILE.gguf``, ``DIR`` + ``gguf_file=``, ``bundled:gemma3-270m``): see :mod:`.gguf`.

Scoring is either *shared-context* (default): one forward over the contexts
of a batch, then one forward over all their continuations reading a fresh,
batch-expanded copy of the contexts' KV cache (a new cache object per call: a
cache mutated in place across calls is transformers #37078); or *full
sequence*: context + continuation concatenated and padded on ``padding_side``.
Both give the same numbers whatever the batch size, and the output layer runs
only where a log-prob is read (:mod:`causal_scoring`). Routing is per request:
with a sliding-window or hybrid cache, a request longer than the window is
scored as full sequences and the others still share their context
(:mod:`kv_reuse`); a cache that cannot be copied at all sends everything to
full sequences, logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ConfigError
from s2sbench.core.scoring import ContinuationScore
from s2sbench.models.batching import AutoBatcher
from s2sbench.models.causal_scoring import TokenScorer
from s2sbench.models.context_scorer import ContextReuse, ContextScorer
from s2sbench.models.memory_budget import cap_auto_batch
from s2sbench.models.text_encoding import (
    EncodedRequest,
    check_long_context,
    context_prefix,
    encode_request,
)
from s2sbench.models.token_scoring import padding_id
from s2sbench.models.transformers_base import LOADED_ARGS, TransformersAdapter

log = logging.getLogger(__name__)


class HFCausalLM(TransformersAdapter):
    """A ``transformers`` causal LM reading text contexts (T2T), any language."""

    name = "hf"
    summary = "any `AutoModelForCausalLM`"
    conditions = ("t2t", "none")
    identified_args = LOADED_ARGS | {"gguf_file"}  # a GGUF is named by its sha256

    def __init__(
        self,
        pretrained: str,
        max_length: int | None = None,
        padding_side: str = "right",
        reuse_context: bool = True,
        add_bos_token: bool | None = None,
        max_batch_size: int = 64,
        batch_size: int | str | None = None,
        gguf_file: str | None = None,
        long_context: str = "error",
        **_runtime: Any,
    ):  # + the load arguments (dtype, device, revision, ...: TransformersAdapter)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from s2sbench.core.checkpoint_files import resolve_local_dir, weights_fingerprint
        from s2sbench.core.model_settings import dtype_name, model_max_length
        from s2sbench.models.gguf import resolve_pretrained

        if padding_side not in ("left", "right"):
            raise ConfigError(f"padding_side must be left or right, not '{padding_side}'")
        self.padding_side = padding_side
        self.reuse_context = bool(reuse_context)
        if add_bos_token not in (None, True, False):
            raise ConfigError(f"add_bos_token must be true or false, not '{add_bos_token}'")
        self.add_bos_token = None if add_bos_token is None else bool(add_bos_token)
        self.long_context = check_long_context(long_context)
        self.batcher: AutoBatcher[Any, Any] = AutoBatcher(batch_size, auto_start=max_batch_size)
        # a GGUF is dequantized once into the s2sbench cache, then loaded as a plain checkpoint
        revision = self.arguments["revision"]
        pretrained, source = resolve_pretrained(pretrained, gguf_file, revision)
        label = source["pretrained"] if "gguf_sha256" in source else None
        self.load_options(pretrained, label=label)  # the user's name, not the folder's hash
        config = self.options.config()
        self.weights = self.options.lazy(AutoModelForCausalLM)
        self.tokenizer = tok = self.options.preprocessor(AutoTokenizer)
        self.max_length = (
            int(max_length) if max_length else model_max_length(SimpleNamespace(config=config), tok)
        )
        self.start_id = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        self.pad_id = padding_id(tok, self.start_id)
        self.prefix = context_prefix(tok, self.add_bos_token)
        local = resolve_local_dir(pretrained, revision)
        self._facts = {
            **source,
            **weights_fingerprint(local),
            "revision": revision,
            "dtype": dtype_name(self.options.dtype, config),
            "max_length": self.max_length,
            "add_bos_token": self.add_bos_token,
            "context_prefix": list(self.prefix),
            # truncated scores are kept apart: a default run never reuses one
            **({"long_context": "truncate"} if self.long_context == "truncate" else {}),
        }
        self.scorer = ContextScorer(
            lambda: self.model,
            self.pad_id,
            padding_side,
            self.batcher,
            ContextReuse(reuse_context, config, self._facts["pretrained"]),
        )

    def fingerprint_facts(self) -> dict[str, Any]:
        return dict(self._facts)

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        if condition.context_is_speech:
            return "a text-only causal LM cannot hear a spoken context; use hf-cascade or hf-audio"
        if condition.continuation_is_speech:
            return "a text-only causal LM cannot score spoken continuations"
        return None

    def encode(self, request: ContextRequest) -> EncodedRequest:
        return encode_request(
            self.tokenizer,
            request,
            prefix=self.prefix,
            start_id=self.start_id,
            max_length=self.max_length,
            long_context=self.long_context,
        )

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        encoded = [self.encode(r) for r in requests]  # every refusal before any forward
        if encoded:  # the longest batch runs first: size auto batches for it
            longest = max(len(c) for e in encoded for c in e.continuations)
            cap_auto_batch(self.batcher, self.model, max(e.longest for e in encoded), longest)
        for index, sums in self.scorer.score(encoded):
            yield index, self._scores(encoded[index], sums)

    @property
    def _fell_back(self) -> bool:
        """Whether a cache that cannot be copied switched this adapter to full sequences."""
        return self.scorer.reuse.gave_up

    def _token_scorer(self) -> TokenScorer:
        """The forward passes over the current weights (tests count and patch them)."""
        return self.scorer.token_scorer()

    @staticmethod
    def _scores(enc: EncodedRequest, sums: list[float]) -> list[ContinuationScore]:
        extra = {"truncated_context_tokens": enc.truncated} if enc.truncated else {}
        return [ContinuationScore(s, len(c), extra) for s, c in zip(sums, enc.continuations)]
