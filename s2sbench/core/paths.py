"""Where s2sbench keeps its on-disk caches (rendered sample audio, ASR transcripts)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$S2SBENCH_CACHE``, else ``$XDG_CACHE_HOME/s2sbench``, else ``~/.cache/s2sbench``."""
    explicit = os.environ.get("S2SBENCH_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "s2sbench"
