"""Loading and fingerprinting shared by adapters that load a causal LM when they are built.

``unit-lm`` and the remote-code plugins (GLM-4-Voice, Kimi-Audio,
Baichuan-Audio) read their weights and tokenizer at construction, unlike
``hf`` and ``hf-audio``, which build from the config and load on first use.
Their fingerprints therefore name the loaded model's own dtype, and they must
all identify a checkpoint the same way (resolved local path, revision,
content hash), or one model's scores could be filed under two ids.
"""

from __future__ import annotations

from typing import Any

from s2sbench.core.checkpoint_files import resolve_local_dir, weights_fingerprint
from s2sbench.core.hf_loading import load_preprocessor, load_pretrained


def load_lm_and_tokenizer(
    model_class: Any,
    pretrained: str,
    *,
    dtype: str,
    device: str | None,
    revision: str | None,
    trust_remote_code: bool,
    allow_pickle: bool,
    allow_weight_mismatch: bool = False,
) -> tuple[Any, Any]:
    """The model (through ``load_pretrained``'s checks) and the checkpoint's own tokenizer."""
    from transformers import AutoTokenizer

    model = load_pretrained(
        model_class,
        pretrained,
        dtype=dtype,
        device=device,
        revision=revision,
        trust_remote_code=trust_remote_code,
        allow_pickle=allow_pickle,
        allow_weight_mismatch=allow_weight_mismatch,
    )
    tokenizer = load_preprocessor(
        AutoTokenizer, pretrained, revision=revision, trust_remote_code=trust_remote_code
    )
    return model, tokenizer


def loaded_fingerprint(
    adapter: str, pretrained: str, revision: str | None, model: Any, **extra: Any
) -> dict[str, Any]:
    """Adapter, resolved checkpoint, revision, loaded dtype, ``extra``, then the weights' hash."""
    local = resolve_local_dir(pretrained, revision)
    return {
        "adapter": adapter,
        "pretrained": str(local or pretrained),
        "revision": revision,
        "dtype": str(model.dtype).removeprefix("torch."),
        **extra,
        **weights_fingerprint(local),
    }
