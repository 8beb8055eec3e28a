"""README's adapter table, generated from what each adapter declares as class data.

``python -m s2sbench.models.model_table`` prints it; tests/test_adapter_base.py checks
that README.md holds exactly this table, so a new family (or a changed condition)
shows up in the README by running this, not by hand-editing a row that could drift.
Each row is ``name``, ``summary``, ``conditions`` and ``languages`` of a built-in
adapter (the plugins have their own table, in docs/models.md).
"""

from __future__ import annotations

from typing import Any

from s2sbench.core.errors import ConfigError
from s2sbench.core.import_object import import_object
from s2sbench.models.registry import MODEL_REGISTRY

DEFAULT_MODEL = "hf-cascade"
PLUGIN_ROW = "| `module:object` | a plugin (docs/plugins.md) | what it declares |"
HEADER = "| adapter | what it is | conditions |\n|---|---|---|"


def row(name: str, adapter: Any) -> str:
    label = f"`{name}`" + (" (default, bundled weights)" if name == DEFAULT_MODEL else "")
    conditions = ", ".join(adapter.conditions)
    if adapter.languages not in ("any", "the recogniser's"):
        conditions += f" ({adapter.languages})"
    return f"| {label} | {adapter.summary} | {conditions} |"


def builtin_adapters() -> list[tuple[str, Any]]:
    """Built-in adapters (not the remote-code plugins), in registry order."""
    return [
        (name, import_object(spec, bad_name=ConfigError(f"cannot import {spec}")))
        for name, spec in MODEL_REGISTRY.items()
        if spec.startswith("s2sbench.models.")
    ]


def model_table() -> str:
    """The README table (header, one row per built-in adapter, the plugin row)."""
    rows = [row(name, adapter) for name, adapter in builtin_adapters()]
    return "\n".join([HEADER, *rows, PLUGIN_ROW])


if __name__ == "__main__":
    print(model_table())
