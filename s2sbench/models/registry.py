"""Model registry: adapters by short name, or any ``module:object`` plugin.

Built-in names map to import strings so that asking for the bundled n-gram
model never imports torch. ``--model-args`` is ``key=value,key=value``.
"""

from __future__ import annotations

import importlib
import inspect
import math
from typing import Any

from s2sbench.errors import ConfigError, ModelError
from s2sbench.models.base import ScoringModel

# Run-wide settings every adapter receives (it may ignore them): not model identity.
RUNTIME_KEYS = (
    "batch_size",
    "device",
    "long_audio",
    "long_context",
    "trust_remote_code",
    "allow_pickle",
    "allow_weight_mismatch",
)
# Safety switches: only a CLI flag or the API keyword sets them, never --model-args.
FLAG_ONLY_KEYS = {"allow_weight_mismatch": "--allow-weight-mismatch"}

MODEL_REGISTRY: dict[str, str] = {
    "ngram": "s2sbench.models.ngram:NGramModelAdapter",
    "sphinx": "s2sbench.models.sphinx_cascade:SphinxCascade",
    "hf": "s2sbench.models.hf_causal:HFCausalLM",
    "hf-cascade": "s2sbench.models.hf_cascade:HFCascade",
    "hf-audio": "s2sbench.models.hf_audio:HFAudioLM",
    "unit-lm": "s2sbench.models.unit_lm:UnitLM",
    "baichuan-audio": "s2sbench.plugins.baichuan_audio:BaichuanAudio",
    "glm4-voice": "s2sbench.plugins.glm4_voice:GLM4Voice",
    "kimi-audio": "s2sbench.plugins.kimi_audio:KimiAudio",
}


def _coerce(value: str) -> Any:
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            number = cast(value)
        except ValueError:
            continue
        return number if math.isfinite(number) else value  # "inf"/"nan" stay text
    return value


def parse_model_args(text: str | dict[str, Any] | None) -> dict[str, Any]:
    """``"pretrained=PATH,dtype=float32"`` -> ``{"pretrained": "PATH", "dtype": "float32"}``."""
    if text is None or text == "":
        return {}
    if isinstance(text, dict):
        return dict(text)
    args: dict[str, Any] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                f"malformed --model-args entry '{part}'", hint="use key=value,key=value"
            )
        if key in args:
            raise ConfigError(f"--model-args gives '{key}' twice", hint="give each key once")
        args[key] = _coerce(value.strip())
    return args


def _import_object(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or module_name
        hint = (
            "install the extra: pip install 's2sbench[hf]'"
            if missing.split(".")[0] in ("torch", "transformers")
            else "check the module name and that it is importable"
        )
        raise ModelError(f"cannot import '{module_name}' ({exc})", hint=hint) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ModelError(f"module '{module_name}' has no object '{attr}'") from None


def _check_model_args(
    name: str, factory: Any, args: dict[str, Any], runtime: dict[str, Any]
) -> None:
    """Refuse a misspelt ``--model-args`` key instead of letting ``**runtime`` swallow it.

    Keys must be named parameters of the adapter; a factory that takes only
    ``**kwargs`` accepts anything. Runtime settings it does not name are
    dropped unless it takes ``**kwargs``.
    """
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return
    named = {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    takes_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    unknown = [k for k in args if k not in named and (named - {"self"} or not takes_any)]
    if unknown:
        known = sorted(n for n in named if n not in RUNTIME_KEYS and n != "self")
        raise ConfigError(
            f"unknown --model-args key '{unknown[0]}' for model '{name}'",
            hint=f"known keys: {', '.join(known) or '(none)'}",
        )
    for key in list(runtime):
        if key not in named and not takes_any:
            runtime.pop(key)


def get_model(
    name: str | ScoringModel, model_args: str | dict[str, Any] | None = None, **runtime: Any
) -> ScoringModel:
    """Build an adapter. ``runtime`` holds run-wide settings (batch_size, device...)."""
    if not isinstance(name, str):
        return name
    args = parse_model_args(model_args)
    for key, flag in FLAG_ONLY_KEYS.items():
        if key in args:
            raise ConfigError(
                f"'{key}' cannot be set through --model-args",
                hint=f"pass {flag} (API: {key}=True) if you mean it",
            )
    if name in MODEL_REGISTRY:
        factory = _import_object(MODEL_REGISTRY[name])
    elif ":" in name:
        factory = _import_object(name)
    else:
        raise ConfigError(
            f"unknown model '{name}'",
            hint=f"known: {', '.join(MODEL_REGISTRY)}; or a plugin as module:object",
        )
    settings = {k: v for k, v in runtime.items() if v is not None}
    _check_model_args(name, factory, args, settings)
    try:
        model = factory(**args, **settings)
    except TypeError as exc:
        raise ConfigError(f"bad arguments for model '{name}': {exc}") from None
    if not isinstance(model, ScoringModel):
        raise ModelError(
            f"'{name}' did not build a scoring model",
            hint="a plugin must provide name, fingerprint(), unsupported_reason() and score()",
        )
    return model
