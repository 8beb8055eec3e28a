"""The layer rule (docs/architecture.md) is enforced: a backwards import fails ``lint-imports``.

Runs import-linter on a copy of the package, unchanged and then with one import
that points up the pipeline, so the contract in pyproject.toml is shown to be
kept by the real tree and to catch the first backwards arrow.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("importlinter")  # the dev extra's; CI always has it
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "s2sbench", tmp_path / "s2sbench", ignore=shutil.ignore_patterns("*.pyc")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_the_layer_contract(tree: Path) -> None:
    done = lint(tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "backwards"),
    [
        ("core/paths.py", "import s2sbench.data.jsonl"),  # core imports no stage
        ("data/jsonl.py", "from s2sbench.tasks import registry"),  # the old data <-> tasks loop
        ("scores/store.py", "import s2sbench.reports.table"),  # the old store -> reports.io
    ],
)
def test_one_backwards_import_breaks_it(tree: Path, module: str, backwards: str) -> None:
    path = tree / "s2sbench" / module
    path.write_text(path.read_text() + f"\n\ndef _late() -> None:\n    {backwards}\n")
    done = lint(tree)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout and "0 kept, 1 broken" in done.stdout
    assert f"s2sbench.{module[:-3].replace('/', '.')}" in done.stdout


def test_the_plugin_example_imports_only_the_public_plugin_api() -> None:
    """docs/plugin_example.py, the template plugin authors copy, uses ``s2sbench.plugin`` only."""
    tree = ast.parse((ROOT / "docs" / "plugin_example.py").read_text(encoding="utf-8"))
    modules = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    ours = {m for m in modules if m and m.split(".")[0] == "s2sbench"}
    assert ours == {"s2sbench.plugin"}


def test_public_names_are_the_core_objects() -> None:
    """``s2sbench.errors`` and ``s2sbench.plugin`` re-export, never copy: ``except`` still works."""
    import s2sbench.errors
    import s2sbench.plugin
    from s2sbench.core import conditions, context_request, errors, scoring

    for name in s2sbench.errors.__all__:
        assert getattr(s2sbench.errors, name) is getattr(errors, name)
    assert s2sbench.plugin.ConfigError is errors.ConfigError
    assert s2sbench.plugin.ContextRequest is context_request.ContextRequest
    assert s2sbench.plugin.ContinuationScore is scoring.ContinuationScore
    assert s2sbench.plugin.Condition is conditions.Condition
    assert s2sbench.plugin.ScoringModel is scoring.ScoringModel
