"""The bad-input catalogue (tests/test_bad_inputs.py) covers every ``run`` option s2sbench checks.

Derived from the real parser, so a new option with a type check or a choice list
fails here until the catalogue gives it a bad value.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
from test_bad_inputs import CASES, earlier, gpt2_dir, qwen_dir  # noqa: F401  (fixtures)

from s2sbench.cli.main import build_parser

# The Ray executor's options are checked by tests/test_ray_executor.py, which starts Ray.
EXECUTOR_GROUP = "execution"


def checked_run_options() -> set[str]:
    """Every ``run`` option whose value s2sbench checks (a type converter or a choice list).

    Derived from the real parser, so a new checked option without a case here fails
    :func:`test_every_checked_run_option_has_a_case`.
    """
    parser = build_parser()
    run = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[
        "run"
    ]
    skip = {
        id(action)
        for group in run._action_groups
        if group.title and group.title.startswith(EXECUTOR_GROUP)
        for action in group._group_actions
    }
    return {
        action.option_strings[0]
        for action in run._actions
        if action.option_strings
        and id(action) not in skip
        and (action.choices is not None or action.type is not None)
    }


def test_every_checked_run_option_has_a_case(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Each checked option is given a bad value by at least one case of the catalogue."""
    finished_run = request.getfixturevalue("earlier")
    used: set[str] = set()
    for name, case in CASES.items():
        folder = tmp_path / name
        shutil.copytree(finished_run, folder / "out")  # the folder each case's input is made in
        if case.model:
            pytest.importorskip("transformers")  # the hf extra builds the tiny model
            shutil.copytree(request.getfixturevalue(f"{case.model}_dir"), folder / case.model)
        used.update(arg for arg in case.make(folder) if arg.startswith("--"))
    options = checked_run_options()
    assert "--limit" in options and "--long-audio" in options  # the derivation finds them
    assert options - used == set()
