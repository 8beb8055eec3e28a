"""What produced a result: package versions and the git commit, recorded in results.json."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

from s2sbench import __version__


def git_hash() -> str | None:
    """The commit of the s2sbench source in use, when it runs from a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def versions() -> dict[str, str]:
    """Versions of s2sbench, Python and the numeric libraries this run imported."""
    versions = {"s2sbench": __version__, "python": platform.python_version()}
    for name in ("torch", "transformers", "pocketsphinx", "numpy"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = str(getattr(module, "__version__", "?"))
    return versions
