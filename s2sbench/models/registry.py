"""Model registry: adapters by short name, or any ``module:object`` plugin.

Built-in names map to import strings so that asking for the bundled n-gram
model never imports torch. ``--model-args`` is ``key=value,key=value``.

Two rules hold for every adapter, built-in or plugin, because they are applied
here rather than in each adapter: the safety gates (``trust_remote_code``,
``allow_pickle``) never come from model args, only from their CLI flags or the
API's keyword arguments; and a parameter the adapter declares boolean (by its
annotation or a bool default) takes only true/false, 1/0 or yes/no, any case --
"no" is truthy in Python, so a lax parse would turn it into yes.
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections.abc import Iterable
from typing import Any

from s2sbench.core.errors import ConfigError, ModelError
from s2sbench.core.import_object import import_object
from s2sbench.core.run_options import GATE_FLAGS
from s2sbench.core.scoring import ScoringModel

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

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
BOOL_ANNOTATIONS = {"bool", "bool|None", "None|bool", "Optional[bool]", "typing.Optional[bool]"}

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


def _split_model_args(text: str) -> dict[str, str]:
    """``"a=1,b=x"`` -> ``{"a": "1", "b": "x"}``, values as written."""
    args: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(
                f"malformed --model-args entry '{part}'", hint="use key=value,key=value"
            )
        if not key:
            raise ConfigError(
                f"--model-args entry '{part}' has no key", hint="use key=value,key=value"
            )
        if key in args:
            raise ConfigError(f"--model-args gives '{key}' twice", hint="give each key once")
        args[key] = value.strip()
    return args


def parse_model_args(text: str | dict[str, Any] | None) -> dict[str, Any]:
    """``"pretrained=PATH,dtype=float32"`` -> ``{"pretrained": "PATH", "dtype": "float32"}``."""
    if text is None or text == "":
        return {}
    if isinstance(text, dict):
        return dict(text)
    return {key: _coerce(value) for key, value in _split_model_args(text).items()}


def _refuse_gates(name: str, keys: Iterable[str]) -> None:
    """A safety gate named in model args is an error, whatever its value or spelling."""
    for key in keys:
        gate = str(key).strip().lower().replace("-", "_")
        if gate in GATE_FLAGS:
            raise ConfigError(
                f"--model-args cannot set '{key}' (model '{name}'): the {gate} safety gate "
                "is set only by its own flag",
                hint=f"pass {GATE_FLAGS[gate]} on the command line, or {gate}=True to "
                "evaluate()/sweep() in Python",
            )


def _is_bool(param: inspect.Parameter) -> bool:
    annotation = param.annotation
    if annotation is inspect.Parameter.empty:
        return isinstance(param.default, bool)
    if isinstance(annotation, str):  # ``from __future__ import annotations``
        return annotation.replace(" ", "") in BOOL_ANNOTATIONS
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return set(typing.get_args(annotation)) == {bool, type(None)}
    return annotation is bool


def bool_params(factory: Any) -> set[str]:
    """The parameters ``factory`` declares boolean: each gets the strict parse."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return set()
    return {n for n, p in params.items() if _is_bool(p)}


def strict_bool(name: str, key: str, value: Any) -> bool:
    """true/false, 1/0, yes/no (any case) -> bool; anything else is an error naming ``key``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = value.strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ConfigError(
        f"--model-args {key}={value}: model '{name}' takes true or false for '{key}'",
        hint="write true/false, 1/0 or yes/no (any case)",
    )


def _import_object(spec: str) -> Any:
    return import_object(
        spec,
        bad_name=ConfigError(
            f"--model '{spec}' is neither a known adapter nor a plugin reference",
            hint=f"known: {', '.join(MODEL_REGISTRY)}; a plugin is module:object with an "
            "importable dotted module name, e.g. mypkg.adapters:MyModel",
        ),
    )


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
    _refuse_gates(name, args)
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
    written = _split_model_args(model_args) if isinstance(model_args, str) else args
    for key in bool_params(factory) & set(args):
        args[key] = strict_bool(name, key, written[key])
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
