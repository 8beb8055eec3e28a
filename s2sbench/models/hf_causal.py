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
Both give the same numbers whatever the batch size; the second is the
fallback for models whose cache cannot be expanded (sliding-window, hybrid).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

from s2sbench.errors import ConfigError
from s2sbench.models.base import ContinuationScore
from s2sbench.models.batching import (
    AutoBatcher,
    CannotReuseCache,
    expand_cache,
    gather_logprob_sums,
    pad_rows,
    positions_from_mask,
)
from s2sbench.models.text_encoding import (
    EncodedRequest,
    check_long_context,
    context_prefix,
    encode_request,
)
from s2sbench.models.token_scoring import padding_id
from s2sbench.requests.build import ContextRequest
from s2sbench.requests.conditions import Condition

log = logging.getLogger(__name__)


class TokenScorer:
    """The two forward strategies over already-encoded token ids."""

    def __init__(self, model: Any, pad_id: int, padding_side: str):
        self.model = model
        self.pad_id = pad_id
        self.padding_side = padding_side
        self.device = next(model.parameters()).device
        # transformers renamed ``past_key_values`` to ``cache`` in 5.x; use what forward takes.
        params = inspect.signature(model.forward).parameters
        self.cache_arg = "cache" if "cache" in params else "past_key_values"
        self.keep_last = {"logits_to_keep": 1} if "logits_to_keep" in params else {}

    def shared_context(self, batch: list[EncodedRequest]) -> list[list[float]]:
        """Contexts once, then every continuation against a copy of their cache.

        Contexts are left-padded so each one's last position is the batch's
        last column: only that column's logits are needed (``logits_to_keep``
        spares a batch x length x vocabulary tensor).
        """
        import torch

        with torch.inference_mode():
            ids, mask, _ = pad_rows([e.context for e in batch], self.pad_id, "left", self.device)
            out = self.model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions_from_mask(mask),
                use_cache=True,
                **self.keep_last,
            )
            cache = getattr(out, "cache", None)
            cache = getattr(out, "past_key_values", None) if cache is None else cache
            if cache is None:
                raise CannotReuseCache("the model returned no cache")
            owners = [b for b, e in enumerate(batch) for _ in e.continuations]
            conts = [c for e in batch for c in e.continuations]
            index = torch.tensor(owners, device=self.device)
            lengths = torch.tensor([len(e.context) for e in batch], device=self.device)
            last = out.logits[:, -1]
            first = gather_logprob_sums(
                last.index_select(0, index)[:, None], [0] * len(conts), [c[:1] for c in conts]
            )
            cache = expand_cache(cache, index)
            del out, last
            cont_ids, cont_mask, _ = pad_rows(conts, self.pad_id, "right", self.device)
            out = self.model(
                input_ids=cont_ids,
                attention_mask=torch.cat([mask.index_select(0, index), cont_mask], dim=1),
                position_ids=positions_from_mask(
                    cont_mask, lengths.index_select(0, index)[:, None]
                ),
                use_cache=True,
                **{self.cache_arg: cache},
            )
            rest = gather_logprob_sums(out.logits, [0] * len(conts), [c[1:] for c in conts])
        sums: list[list[float]] = [[] for _ in batch]
        for owner, a, b in zip(owners, first, rest):
            sums[owner].append(a + b)
        return sums

    def full_sequences(self, pairs: list[tuple[tuple[int, ...], tuple[int, ...]]]) -> list[float]:
        """Context + continuation as one padded sequence per pair."""
        import torch

        rows = [ctx + cont for ctx, cont in pairs]
        with torch.inference_mode():
            ids, mask, offsets = pad_rows(rows, self.pad_id, self.padding_side, self.device)
            out = self.model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions_from_mask(mask),
                use_cache=False,
            )
            starts = [o + len(ctx) - 1 for o, (ctx, _) in zip(offsets, pairs)]
            return gather_logprob_sums(out.logits, starts, [cont for _, cont in pairs])


class HFCausalLM:
    """A ``transformers`` causal LM reading text contexts (T2T), any language."""

    name = "hf"

    def __init__(
        self,
        pretrained: str,
        dtype: str = "auto",
        device: str | None = None,
        revision: str | None = None,
        attn_implementation: str | None = None,
        max_length: int | None = None,
        padding_side: str = "right",
        reuse_context: bool = True,
        add_bos_token: bool | None = None,
        max_batch_size: int = 64,
        batch_size: int | str | None = None,
        gguf_file: str | None = None,
        long_context: str = "error",
        trust_remote_code: bool = False,
        allow_pickle: bool = False,
        allow_weight_mismatch: bool = False,
        **_runtime: Any,
    ):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from s2sbench.models.checkpoint_files import resolve_local_dir, weights_fingerprint
        from s2sbench.models.gguf import resolve_pretrained
        from s2sbench.models.hf_loading import (
            LazyModel,
            dtype_name,
            load_config,
            load_preprocessor,
            model_max_length,
        )

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
        pretrained, source = resolve_pretrained(pretrained, gguf_file, revision)
        config = load_config(
            pretrained,
            revision=revision,
            trust_remote_code=trust_remote_code,
            allow_pickle=allow_pickle,
        )
        self.weights = LazyModel(
            AutoModelForCausalLM,
            pretrained,
            dtype=dtype,
            device=device,
            revision=revision,
            trust_remote_code=trust_remote_code,
            allow_pickle=allow_pickle,
            attn_implementation=attn_implementation,
            allow_weight_mismatch=allow_weight_mismatch,
        )
        self.tokenizer = tok = load_preprocessor(
            AutoTokenizer, pretrained, revision=revision, trust_remote_code=trust_remote_code
        )
        self.max_length = (
            int(max_length) if max_length else model_max_length(SimpleNamespace(config=config), tok)
        )
        self.start_id = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        self.pad_id = padding_id(tok, self.start_id)
        self.prefix = context_prefix(tok, self.add_bos_token)
        local = resolve_local_dir(pretrained, revision)
        self._fingerprint = {
            "adapter": self.name,
            **source,
            **weights_fingerprint(local),
            "revision": revision,
            "dtype": dtype_name(dtype, config),
            "max_length": self.max_length,
            "add_bos_token": self.add_bos_token,
            "context_prefix": list(self.prefix),
            # truncated scores are kept apart: a default run never reuses one
            **({"long_context": "truncate"} if self.long_context == "truncate" else {}),
        }
        self._fell_back = False

    @property
    def model(self) -> Any:
        """The weights, loaded on first use (see ``hf_loading.LazyModel``)."""
        return self.weights.get()

    def fingerprint(self) -> dict[str, Any]:
        return dict(self._fingerprint)

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
        scorer = TokenScorer(self.model, self.pad_id, self.padding_side)
        done: set[int] = set()
        if self.reuse_context and not self._fell_back:
            try:
                for index, sums in self._shared(scorer, encoded):
                    done.add(index)
                    yield index, self._scores(encoded[index], sums)
                return
            except CannotReuseCache as exc:
                self._fell_back = True
                log.warning(
                    "%s: cannot reuse the context cache (%s); scoring full sequences",
                    self._fingerprint["pretrained"],
                    exc,
                )
        todo = [i for i in range(len(encoded)) if i not in done]
        for index, sums in self._full(scorer, encoded, todo):
            yield index, self._scores(encoded[index], sums)

    def _shared(self, scorer: Any, encoded: list[EncodedRequest]) -> Iterator[tuple[int, list]]:
        units = list(range(len(encoded)))
        for batch, results in self.batcher.run(
            units,
            lambda chunk: scorer.shared_context([encoded[i] for i in chunk]),
            length=lambda i: encoded[i].longest,
            cost=lambda i: len(encoded[i].continuations),
            # Continuation rows pay for the full-vocabulary output layer, context rows do not
            # (only their last position's logits are kept): pad the continuations least.
            key=lambda i: (max(map(len, encoded[i].continuations)), len(encoded[i].context)),
        ):
            yield from zip(batch, results)

    def _full(
        self, scorer: Any, encoded: list[EncodedRequest], todo: list[int]
    ) -> Iterator[tuple[int, list]]:
        pairs = [(r, c) for r in todo for c in range(len(encoded[r].continuations))]
        pending = {r: [0.0] * len(encoded[r].continuations) for r in todo}
        missing = {r: len(encoded[r].continuations) for r in todo}
        for batch, sums in self.batcher.run(
            pairs,
            lambda chunk: scorer.full_sequences(
                [(encoded[r].context, encoded[r].continuations[c]) for r, c in chunk]
            ),
            length=lambda p: len(encoded[p[0]].context) + len(encoded[p[0]].continuations[p[1]]),
        ):
            for (r, c), value in zip((pairs[i] for i in batch), sums):
                pending[r][c] = value
                missing[r] -= 1
                if missing[r] == 0:
                    yield r, pending.pop(r)

    @staticmethod
    def _scores(enc: EncodedRequest, sums: list[float]) -> list[ContinuationScore]:
        extra = {"truncated_context_tokens": enc.truncated} if enc.truncated else {}
        return [ContinuationScore(s, len(c), extra) for s, c in zip(sums, enc.continuations)]
