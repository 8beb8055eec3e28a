"""Readers for the reference S2SBench layout (JSONL + ``<audio_dir>/<uttid>.wav``).

Story files: rows ``{"uttid", "first", "last"}`` sorted by int uttid; rows 2k
and 2k+1 are the right and the wrong ending of one story and share ``first``.
Choice (sCMMLU) files: rows ``{"uttid", "first", "A", "B", "C", "D", "answer"}``.
Validation is strict and every error names the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s2sbench.data.jsonl import read_jsonl, require_text, require_uttid
from s2sbench.errors import DataError
from s2sbench.tasks.item import Item

CHOICE_LETTERS = ("A", "B", "C", "D")


def _audio_path(audio_dir: Path | None, uttid: int) -> Path | None:
    return None if audio_dir is None else Path(audio_dir) / f"{uttid}.wav"


def _check_unique(path: Path, rows: list[tuple[int, int, dict[str, Any]]]) -> None:
    seen: dict[int, int] = {}
    for line, uttid, _ in rows:
        if uttid in seen:
            raise DataError.at(
                path,
                line,
                f"duplicate uttid {uttid} (first seen on line {seen[uttid]})",
                "every row needs its own uttid",
            )
        seen[uttid] = line


def read_story_file(path: Path, lang: str, audio_dir: Path | None = None) -> list[Item]:
    """Pair rows 2k (right ending) and 2k+1 (wrong ending) into two-continuation items."""
    path = Path(path)
    rows = []
    for line, record in read_jsonl(path):
        uttid = require_uttid(path, line, record)
        require_text(path, line, record, "first")
        require_text(path, line, record, "last")
        rows.append((line, uttid, record))
    if not rows:
        raise DataError.at(path, None, "no rows", "a story file needs at least one pair")
    _check_unique(path, rows)
    rows.sort(key=lambda row: row[1])
    if len(rows) % 2:
        line, uttid, _ = rows[-1]
        raise DataError.at(
            path,
            line,
            f"odd number of story rows ({len(rows)}): uttid {uttid} has no pair",
            "each story needs a right-ending row (even) and a wrong-ending row (odd)",
        )
    items = []
    for k in range(0, len(rows), 2):
        (line_r, id_r, right), (line_w, id_w, wrong) = rows[k], rows[k + 1]
        if id_w != id_r + 1:
            raise DataError.at(
                path,
                line_w,
                f"uttid {id_w} does not follow {id_r}: pairs must be consecutive",
                "rows 2k and 2k+1 (by uttid) are the right and wrong ending of one story",
            )
        if right["first"].strip() != wrong["first"].strip():
            raise DataError.at(
                path,
                line_w,
                f"uttid {id_w} has a different context ('first') than uttid {id_r}",
                "both rows of a pair must share the same context",
            )
        items.append(
            Item(
                id=str(id_r),
                lang=lang,
                context_text=right["first"].strip(),
                continuations=(right["last"].strip(), wrong["last"].strip()),
                gold=0,
                context_audio=_audio_path(audio_dir, id_r),
                meta={"uttids": [id_r, id_w], "line": line_r},
            )
        )
    return items


def read_choice_file(path: Path, lang: str, audio_dir: Path | None = None) -> list[Item]:
    """One four-continuation item per row; ``answer`` must be one of A-D."""
    path = Path(path)
    rows = []
    for line, record in read_jsonl(path):
        uttid = require_uttid(path, line, record)
        rows.append((line, uttid, record))
    if not rows:
        raise DataError.at(path, None, "no rows", "a choice file needs at least one question")
    _check_unique(path, rows)
    rows.sort(key=lambda row: row[1])
    items = []
    for line, uttid, record in rows:
        first = require_text(path, line, record, "first")
        options = tuple(require_text(path, line, record, k).strip() for k in CHOICE_LETTERS)
        answer = record.get("answer")
        if "answer" not in record:
            raise DataError.at(path, line, "missing field 'answer'", "give the letter A-D")
        if not isinstance(answer, str) or answer.strip().upper() not in CHOICE_LETTERS:
            raise DataError.at(
                path, line, f"answer {answer!r} is not one of A, B, C, D", "fix the answer letter"
            )
        meta: dict[str, Any] = {"uttids": [uttid], "line": line}
        for key in ("subject", "category"):
            if isinstance(record.get(key), str):
                meta["subject"] = record[key]
                break
        items.append(
            Item(
                id=str(uttid),
                lang=lang,
                context_text=first.strip(),
                continuations=options,
                gold=CHOICE_LETTERS.index(answer.strip().upper()),
                context_audio=_audio_path(audio_dir, uttid),
                meta=meta,
            )
        )
    return items


def read_items(kind: str, path: Path, lang: str, audio_dir: Path | None = None) -> list[Item]:
    """Dispatch on the task kind (``story`` or ``choice``)."""
    if kind == "story":
        return read_story_file(path, lang, audio_dir)
    if kind == "choice":
        return read_choice_file(path, lang, audio_dir)
    raise DataError.at(path, None, f"unknown task kind {kind!r}", "use 'story' or 'choice'")
