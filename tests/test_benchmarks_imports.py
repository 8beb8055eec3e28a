"""The benchmarks are not run in CI (they measure time), so a renamed or moved s2sbench name
would break them silently: every name they import from s2sbench must exist."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def imported_names(path: Path) -> list[tuple[str, str | None]]:
    """``(module, name)`` of every s2sbench import in ``path``, lazy ones inside functions too."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("s2sbench"):
            found += [(str(node.module), alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.startswith("s2sbench")]
    return found


def resolves(module: str, name: str | None) -> bool:
    try:
        loaded = importlib.import_module(module)
    except ImportError:
        return False
    if name is None or hasattr(loaded, name):
        return True
    try:  # ``from package import submodule``
        importlib.import_module(f"{module}.{name}")
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.name)
def test_every_s2sbench_name_a_benchmark_imports_exists(script: Path) -> None:
    pytest.importorskip("torch")  # some benchmark imports pull in the hf extra's modules
    missing = [f"{m}:{n}" for m, n in imported_names(script) if not resolves(m, n)]
    assert not missing, f"{script.name} imports names s2sbench no longer has: {missing}"


def test_the_check_sees_a_lazy_import_of_a_missing_name(tmp_path: Path) -> None:
    script = tmp_path / "bench.py"
    script.write_text(
        "def f():\n    from s2sbench.models.hf_causal import shared_cost\n", encoding="utf-8"
    )
    names = imported_names(script)
    assert names == [("s2sbench.models.hf_causal", "shared_cost")]
    assert not resolves(*names[0])
    assert resolves("s2sbench.models.context_scorer", "shared_cost")
