"""The two forward strategies of ``hf-audio`` over one loaded audio LLM.

*Full sequences*: every context + continuation its own padded row (text padded
on ``padding_side``, never by a processor, whose ``padding_side`` would also
flip audio features; position ids count real tokens only). *Shared context*:
the contexts of a batch once (audio encoder included), then all their
continuations on a fresh, batch-expanded copy of that KV cache
(:mod:`kv_reuse`; the caller routes here only requests that fit the model's
sliding window, if it has one). Both run the backbone (``model.model``) and then
the output layer once per batch, over the positions whose log-prob is read
only, with the text model's final logit soft-cap (Gemma 3n) applied as its own
logits apply it, and a float32 log-softmax of those rows.
"""

from __future__ import annotations

import inspect
from typing import Any

from s2sbench.models.audio_families.inputs import stack_features
from s2sbench.models.audio_specs import AudioLMSpec
from s2sbench.models.batching import (
    CannotReuseCache,
    expand_cache,
    pad_rows,
    picked_logprob_sums,
    positions_from_mask,
)


class AudioForward:
    """Forward passes of one loaded model; units are ``hf_audio.Unit`` (context ids, tails,
    audio inputs)."""

    def __init__(self, model: Any, spec: AudioLMSpec, pad_id: int, padding_side: str):
        self.model = model
        self.spec = spec
        self.pad_id = pad_id
        self.padding_side = padding_side
        params = inspect.signature(model.model.forward).parameters
        self.cache_kwarg = "cache" if "cache" in params else "past_key_values"
        text_config = model.config.get_text_config()
        self.softcap = getattr(text_config, "final_logit_softcapping", None)

    def inputs(
        self, sequences: list[list[int]], audio: list[dict[str, Any]], side: str
    ) -> tuple[dict[str, Any], list[int]]:
        """Ids and mask padded on ``side``, position ids counting real tokens only (none for
        multimodal rotary positions, which the model derives from the mask), the audio
        inputs of the rows with audio in order; and where each row's first token sits."""
        device = self.model.device
        ids, mask, offsets = pad_rows(sequences, self.pad_id, side, device)
        inputs: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if not self.spec.mrope:
            inputs["position_ids"] = positions_from_mask(mask)
        if audio and self.spec.embed_rows is not None:
            return self.spec.embed_rows(self.model, inputs, audio), offsets
        for key in self.spec.feature_keys if audio else ():
            value = stack_features([item[key] for item in audio]).to(device)
            inputs[key] = value.to(self.model.dtype) if value.is_floating_point() else value
        return inputs, offsets

    def sums(self, states: Any, tails: list[list[int]]) -> list[float]:
        """One log-prob sum per tail; ``states`` holds, tail after tail, the hidden state that
        predicts each of its tokens: the output layer runs once, at the read positions only."""
        import torch

        logits = self.model.get_output_embeddings()(states).float()
        if self.softcap:  # Gemma-style final soft-capping, as the model's own logits apply it
            logits = torch.tanh(logits / self.softcap) * self.softcap
        rows = [r for r, tail in enumerate(tails) for _ in tail]
        targets = [t for tail in tails for t in tail]
        return picked_logprob_sums(logits, targets, rows, len(tails)).tolist()

    def full(self, units: list[Any]) -> list[float]:
        """Every context + continuation as its own padded row; one sum per row."""
        import torch

        rows = [(unit, tail) for unit in units for tail in unit.tails]
        audio = [unit.audio for unit, _ in rows if unit.audio is not None]
        sequences = [unit.context + tail for unit, tail in rows]
        inputs, offsets = self.inputs(sequences, audio, self.padding_side)
        hidden = self.model.model(**inputs, use_cache=False).last_hidden_state
        states = []
        for i, (unit, tail) in enumerate(rows):
            start = offsets[i] + len(unit.context) - 1
            states.append(hidden[i, start : start + len(tail)])
        return self.sums(torch.cat(states), [tail for _, tail in rows])

    def shared(self, units: list[Any], window: int | None) -> list[float]:
        """Contexts once (audio encoder included), then all continuations on an expanded cache."""
        import torch

        device = self.model.device
        audio = [unit.audio for unit in units if unit.audio is not None]
        context, offsets = self.inputs([u.context for u in units], audio, self.padding_side)
        first = self.model.model(**context, use_cache=True)
        cache = first.cache if hasattr(first, "cache") else first.past_key_values
        if cache is None:
            raise CannotReuseCache("the model returned no cache")
        owner = [u for u, unit in enumerate(units) for _ in unit.tails]
        tails = [tail for unit in units for tail in unit.tails]
        rest, _ = self.inputs(tails, [], "right")  # appended after each context's cache
        lengths = torch.tensor([len(units[u].context) for u in owner], device=device)
        rest["position_ids"] = lengths[:, None] + torch.arange(
            len(rest["input_ids"][0]), device=device
        )
        rest["attention_mask"] = torch.cat(
            [context["attention_mask"][owner], rest["attention_mask"]], 1
        )
        rest[self.cache_kwarg] = expand_cache(cache, torch.tensor(owner, device=device), window)
        hidden = self.model.model(**rest).last_hidden_state
        states = []
        for r, (u, tail) in enumerate(zip(owner, tails)):
            states.append(first.last_hidden_state[u, offsets[u] + len(units[u].context) - 1][None])
            states.append(hidden[r, : len(tail) - 1])
        return self.sums(torch.cat(states), tails)
