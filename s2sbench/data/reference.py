"""Readers for the reference S2SBench layout (JSONL + ``<audio_dir>/<uttid>.wav``).

Story files: rows ``{"uttid", "first", "last"}`` sorted by int uttid; rows 2k
and 2k+1 are the right and the wrong ending of one story and share ``first``;
each row is heard after its own ``<uttid>.wav`` (``Item.context_audios``).
Choice (sCMMLU) files: rows ``{"uttid", "first", "A", "B", "C", "D", "answer"}``.
The rules live in :mod:`s2sbench.data.dataset_rules`, shared with ``data
validate``; a run stops at the first problem, naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path

from s2sbench.core.item import Item
from s2sbench.data.dataset_rules import CHOICE_LETTERS, parse_dataset

__all__ = ["CHOICE_LETTERS", "read_choice_file", "read_items", "read_story_file"]


def read_story_file(path: Path, lang: str, audio_dir: Path | None = None) -> list[Item]:
    """Pair rows 2k (right ending) and 2k+1 (wrong ending) into two-continuation items."""
    return parse_dataset("story", path, lang, audio_dir).items_or_raise()


def read_choice_file(path: Path, lang: str, audio_dir: Path | None = None) -> list[Item]:
    """One four-continuation item per row; ``answer`` must be one of A-D."""
    return parse_dataset("choice", path, lang, audio_dir).items_or_raise()


def read_items(kind: str, path: Path, lang: str, audio_dir: Path | None = None) -> list[Item]:
    """Dispatch on the task kind (``story`` or ``choice``)."""
    return parse_dataset(kind, path, lang, audio_dir).items_or_raise()
