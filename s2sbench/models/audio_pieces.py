"""``hf-audio``'s two pieces of the one token scorer (:mod:`forward_pieces`).

:class:`AudioInputs`: text arrives padded by the scorer (never by a processor,
whose ``padding_side`` would also flip audio features); a row's request extras
are its audio inputs (the processor's features, padded per request), which go
with every row of an audio request: stacked and zero-padded to the batch's
widest, or, for families whose audio encoder depends on padding
(``spec.embed_rows``: Phi-4, Granite Speech), encoded row by row into
``inputs_embeds``. Multimodal rotary positions (``spec.mrope``: Qwen Omni) get
no hand-built position ids, so those models never reuse a context cache.

:class:`BackboneHead`: the backbone (``model.model``) runs, then the output
layer only at the positions whose log-prob is read, with the text model's final
logit soft-cap (Gemma 3n) applied as the model's own logits apply it; the
per-call rotary state of Qwen-VL/Omni models is cleared around every forward.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from s2sbench.models.audio_families.inputs import RopeState, stack_features
from s2sbench.models.audio_specs import AudioLMSpec


class AudioInputs:
    """Audio inputs of the rows that carry them, in row order (see the module docstring)."""

    def __init__(self, model: Any, spec: AudioLMSpec):
        self.model = model
        self.spec = spec
        self.positions = not spec.mrope

    def extend(
        self, inputs: dict[str, Any], offsets: Sequence[int], extras: Sequence[Any] | None
    ) -> dict[str, Any]:
        audio = [item for item in extras or () if item is not None]
        if not audio:
            return inputs
        if self.spec.embed_rows is not None:
            return self.spec.embed_rows(self.model, inputs, audio)
        for key in self.spec.feature_keys:
            value = stack_features([item[key] for item in audio]).to(self.model.device)
            inputs[key] = value.to(self.model.dtype) if value.is_floating_point() else value
        return inputs


class BackboneHead:
    """Backbone forward, then the output layer at the read positions only (soft-capped)."""

    def __init__(self, model: Any):
        self.model = model
        params = inspect.signature(model.model.forward).parameters
        self.cache_arg = "cache" if "cache" in params else "past_key_values"
        self.softcap = getattr(model.config.get_text_config(), "final_logit_softcapping", None)
        self.rope = RopeState(model)

    def select(self, keep: Any, **inputs: Any) -> tuple[Any, Any]:
        import torch

        self.rope.reset()
        try:
            out = self.model.model(**inputs)
        finally:
            self.rope.reset()
        logits = self.model.get_output_embeddings()(out.last_hidden_state[keep]).float()
        if self.softcap:  # Gemma-style final soft-capping, as the model's own logits apply it
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return out, logits
