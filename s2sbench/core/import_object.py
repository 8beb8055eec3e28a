"""``module:object`` references: how plugins (models, TTS backends) are named.

The model registry and the TTS registry both accept a built-in name or an
import string such as ``mypkg.adapters:MyModel``; this is the one place that
checks such a string and imports it, so both say the same thing when it fails.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from s2sbench.core.errors import ConfigError, ModelError

DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def is_import_string(spec: str) -> bool:
    """True when ``spec`` is shaped like ``dotted.module:object``."""
    module_name, colon, attr = spec.partition(":")
    return bool(colon) and bool(DOTTED.fullmatch(module_name)) and bool(IDENTIFIER.fullmatch(attr))


def import_object(spec: str, *, bad_name: ConfigError) -> Any:
    """The object ``spec`` (``module:object``) names.

    ``bad_name`` is raised when ``spec`` is not shaped like an import string
    (the caller knows which option and which built-in names to mention). A
    module that cannot be imported, or that fails while importing, or lacks the
    object, is a :class:`ModelError` naming it.
    """
    if not is_import_string(spec):
        raise bad_name
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
    except Exception as exc:  # the plugin's own code failed while importing
        raise ModelError(
            f"importing plugin module '{module_name}' failed ({type(exc).__name__}: {exc})",
            hint="fix the plugin module",
        ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ModelError(f"module '{module_name}' has no object '{attr}'") from None
