"""What produced a result and when: versions, git commit and wall clock, for results.json."""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from s2sbench.core.version import __version__


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


def _installed_version(name: str) -> str:
    """The distribution's version from its metadata (pocketsphinx has no ``__version__``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def versions() -> dict[str, str]:
    """Versions of s2sbench, Python and the numeric libraries this run imported."""
    versions = {"s2sbench": __version__, "python": platform.python_version()}
    for name in ("torch", "transformers", "pocketsphinx", "numpy"):
        module = sys.modules.get(name)
        if module is not None:
            found = getattr(module, "__version__", None)
            versions[name] = str(found) if found else _installed_version(name)
    return versions


def wall_clock(start: float) -> dict[str, Any]:
    """``started_at`` (ISO 8601, UTC) of ``start`` and ``total_seconds`` from then until now."""
    when = datetime.fromtimestamp(start, timezone.utc).isoformat(timespec="seconds")
    return {
        "started_at": when.replace("+00:00", "Z"),
        "total_seconds": round(time.time() - start, 3),
    }
