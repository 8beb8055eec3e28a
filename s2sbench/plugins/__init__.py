"""Adapters for speech LLMs that ship their own modelling code (``trust_remote_code``).

Each plugin is loaded by ``module:object``
(``--model s2sbench.plugins.baichuan_audio:BaichuanAudio``) and runs the
checkpoint's Python code only when the user passed ``--trust-remote-code``;
without it the plugin refuses before touching the checkpoint, with one line
that says why and what to do.
"""

from __future__ import annotations

from s2sbench.core.errors import ModelError


def require_remote_code(trust_remote_code: bool, family: str, pretrained: str) -> None:
    """Refuse to load a remote-code family unless the user opted in."""
    if not trust_remote_code:
        raise ModelError(
            f"{family} checkpoints run their own Python code (trust_remote_code); refusing to "
            "load it without permission",
            where=str(pretrained),
            hint="review the checkpoint's .py files, then pass --trust-remote-code",
        )
