"""Source CSVs: reading them (one clear error per problem) and recognising their layout.

Three layouts are known (docs/data.md): StoryCloze (``InputSentence1-4``,
``RandomFifthSentenceQuiz1/2``, ``AnswerRightEnding``), CMMLU (``Question, A-D, Answer``)
and already-rewritten statements (``first, A-D, answer``). A CSV that fits none is refused
with the columns it lacks named, so a user sees ``missing column 'AnswerRightEnding'``
rather than a list of what the file has.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from s2sbench.core.errors import DataError
from s2sbench.core.regular_files import read_regular_bytes
from s2sbench.data.jsonl import UTF16_BOMS

STORY_COLUMNS = (
    "InputSentence1",
    "InputSentence2",
    "InputSentence3",
    "InputSentence4",
    "RandomFifthSentenceQuiz1",
    "RandomFifthSentenceQuiz2",
    "AnswerRightEnding",
)
CMMLU_COLUMNS = ("Question", "A", "B", "C", "D", "Answer")
STATEMENT_COLUMNS = ("first", "A", "B", "C", "D", "answer")
# format -> (its name for people, the item kind it makes, its required columns)
CSV_LAYOUTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "storycloze": ("StoryCloze", "story", STORY_COLUMNS),
    "cmmlu": ("CMMLU", "choice", CMMLU_COLUMNS),
    "statements": ("statement", "choice", STATEMENT_COLUMNS),
}


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and ``(line, row)`` pairs; accepts a UTF-8 BOM, names the line on errors."""
    raw = read_regular_bytes(path, "source file", hint="check the source path")
    if raw.startswith(UTF16_BOMS):
        raise DataError.at(path, None, "file is UTF-16 encoded", "re-save the CSV as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError.at(
            path, None, f"invalid UTF-8 at byte {exc.start}", "re-save the CSV as UTF-8"
        ) from None
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise DataError.at(path, line, "NUL byte in the text", "re-save the CSV as UTF-8 text")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
        doubled = sorted({h for h in header if header.count(h) > 1})
        if doubled:
            raise DataError.at(path, 1, f"duplicate column(s) {doubled}", "name each column once")
        reader.fieldnames = header
        for row in reader:
            if None in row:
                raise DataError.at(path, reader.line_num, "more values than header columns")
            cleaned = {k: (v or "").strip() for k, v in row.items()}
            if any(cleaned.values()):
                rows.append((reader.line_num, cleaned))
    except csv.Error as exc:
        raise DataError.at(
            path, reader.line_num + 1, f"unreadable CSV ({exc})", "check the quoting of the row"
        ) from None
    return header, rows


def _squash(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name).lower()


def missing_columns_text(header: list[str], columns: tuple[str, ...]) -> str:
    """``'AnswerRightEnding'`` (or ``'Answer' (found 'answer': names are case-sensitive)``):
    each required column the header lacks, with a near-miss spelling when there is one."""
    parts = []
    for column in columns:
        if column in header:
            continue
        near = [h for h in header if _squash(h) == _squash(column)]
        parts.append(
            f"'{column}' (found '{near[0]}': names are case-sensitive)" if near else f"'{column}'"
        )
    return ", ".join(parts)


def require_columns(path: Path, header: list[str], fmt: str) -> None:
    """Refuse a CSV read as ``fmt`` whose header lacks a required column, naming it."""
    label, _, columns = CSV_LAYOUTS[fmt]
    missing = [c for c in columns if c not in header]
    if missing:
        raise DataError.at(
            path,
            1,
            f"not a {label} CSV: missing column{'s' if len(missing) > 1 else ''} "
            f"{missing_columns_text(header, columns)}",
            f"a {label} CSV has the columns {', '.join(columns)} (docs/data.md)",
        )


def detect_format(path: Path, kind: str | None = None) -> str:
    """``storycloze``, ``cmmlu``, ``statements`` (CSV) or ``jsonl``, from the file's header.

    A CSV matching no layout is refused with the missing columns named: of the layout it
    resembles most (the most required columns present, among those making ``kind`` items
    when given), or of every layout when it shares no column with any.
    """
    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        return "jsonl"
    if path.suffix.lower() != ".csv":
        raise DataError.at(
            path,
            None,
            f"unknown source type '{path.suffix}'",
            "give a .csv (StoryCloze, CMMLU, statements) or a .jsonl file",
        )
    header, _ = read_csv(path)
    for fmt, (_, _, columns) in CSV_LAYOUTS.items():
        if all(c in header for c in columns):
            return fmt
    candidates = [f for f, (_, k, _) in CSV_LAYOUTS.items() if kind in (None, k)]
    overlap = {f: sum(c in header for c in CSV_LAYOUTS[f][2]) for f in candidates}
    best = max(candidates, key=lambda f: overlap[f])  # ties: the first listed
    if overlap[best]:
        require_columns(path, header, best)
    needs = "; ".join(
        f"a {label} CSV needs {missing_columns_text(header, columns)}"
        for label, _, columns in (CSV_LAYOUTS[f] for f in candidates)
    )
    raise DataError.at(
        path,
        1,
        f"unrecognised CSV columns {', '.join(header) or '(none)'}: {needs}",
        "rename the columns to one of these layouts (docs/data.md)",
    )
