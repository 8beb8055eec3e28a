"""Importers: public text benchmarks -> reference S2SBench rows.

Every importer returns the rows of the reference JSONL (story rows
``{"uttid", "first", "last"}`` in right/wrong pairs, choice rows
``{"uttid", "first", "A", "B", "C", "D", "answer"[, "subject"]}``), so the
builder has one thing to render and the output reads back through
:mod:`s2sbench.data.reference`. Errors name the file and the CSV line.

Supported sources:

* StoryCloze / ROCStories cloze CSV and its translations (xStoryCloze):
  ``InputSentence1-4, RandomFifthSentenceQuiz1/2, AnswerRightEnding``.
* CMMLU CSV: ``Question, A, B, C, D, Answer``, turned into statements by
  :func:`question_to_statement` (documented in docs/data.md).
* Already-rewritten statement files (CSV or JSONL with ``first, A, B, C, D,
  answer``) and reference JSONL files (story or choice), taken as-is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from s2sbench.core.errors import DataError
from s2sbench.data.csv_layout import (
    CMMLU_COLUMNS,
    CSV_LAYOUTS,
    STATEMENT_COLUMNS,
    STORY_COLUMNS,
    detect_format,
    require_columns,
)
from s2sbench.data.csv_layout import read_csv as _read_csv
from s2sbench.data.jsonl import read_jsonl, require_text, require_uttid
from s2sbench.data.reference import CHOICE_LETTERS

__all__ = [
    "CMMLU_COLUMNS",
    "CSV_LAYOUTS",
    "STATEMENT_COLUMNS",
    "STORY_COLUMNS",
    "detect_format",
    "import_cmmlu_csv",
    "import_jsonl",
    "import_source",
    "import_statement_csv",
    "import_storycloze_csv",
    "question_to_statement",
]

Row = dict[str, Any]

# A fill-in blank inside a question: underscores, or empty (full/half-width) parentheses.
_BLANK = re.compile(r"_{2,}|（\s*）|\(\s*\)")
# Question-to-statement joiners when the question has no blank (see docs/data.md).
ANSWER_LEAD = {"zh": "答案是", "en": "The answer is"}
SENTENCE_END = {"zh": "。", "en": "."}
_CONTEXT_JOINER = {"zh": "", "en": " "}
_QUESTION_ENDS = ("？", "?", "：", ":", "。", ".", "！", "!")
_SENTENCE_ENDS = ("。", ".", "！", "!", "？", "?")


def _need(path: Path, line: int, row: dict[str, str], column: str) -> str:
    value = row.get(column, "")
    if not value:
        raise DataError.at(path, line, f"column '{column}' is empty")
    return value


def import_storycloze_csv(path: Path, lang: str) -> list[Row]:
    """Story cloze rows: the 4 input sentences are the context; right ending first.

    Sentences are joined with a space in English and with nothing in Chinese
    (as the reference zh-sStoryCloze text reads).
    """
    path = Path(path)
    header, rows = _read_csv(path)
    require_columns(path, header, "storycloze")
    if not rows:
        raise DataError.at(path, None, "no rows", "a story CSV needs at least one story")
    out: list[Row] = []
    for line, row in rows:
        sentences = [_need(path, line, row, f"InputSentence{i}") for i in range(1, 5)]
        endings = [_need(path, line, row, f"RandomFifthSentenceQuiz{i}") for i in (1, 2)]
        answer = row.get("AnswerRightEnding", "")
        if answer not in ("1", "2"):
            raise DataError.at(path, line, f"AnswerRightEnding {answer!r} must be 1 or 2")
        right = int(answer) - 1
        context = _CONTEXT_JOINER[lang].join(sentences)
        uttid = len(out)
        out.append({"uttid": uttid, "first": context, "last": endings[right]})
        out.append({"uttid": uttid + 1, "first": context, "last": endings[1 - right]})
    return out


def question_to_statement(question: str, option: str, lang: str) -> tuple[str, str]:
    """``(first, continuation)`` for one question and one option.

    Three cases, tried in order (docs/data.md shows examples):

    1. a blank (``____``, ``（）``, ``()``) with text before it: the text before
       the first blank is the context, ``option`` + the text after it is the
       continuation;
    2. a question that ends in punctuation (``？``, ``?``, ``：``, ``。``...): the
       context is the question + ``答案是`` (en: `` The answer is``);
    3. an unfinished sentence (``中国最长的河流是``): the question itself is the
       context, which the option completes.

    In cases 2 and 3 the continuation is the option with a sentence end
    (``。`` / ``.``) added when it has none.
    """
    match = _BLANK.search(question)
    if match and question[: match.start()].strip():
        return question[: match.start()].strip(), option + question[match.end() :].rstrip()
    first = question.strip()
    if first.endswith(_QUESTION_ENDS):
        first = f"{first} {ANSWER_LEAD[lang]}" if lang == "en" else first + ANSWER_LEAD[lang]
    ended = option.endswith(_SENTENCE_ENDS)
    return first, option if ended else option + SENTENCE_END[lang]


def import_cmmlu_csv(path: Path, lang: str, subject: str | None = None) -> list[Row]:
    """CMMLU questions -> choice rows; ``subject`` defaults to the file name (CMMLU's layout)."""
    path = Path(path)
    header, rows = _read_csv(path)
    require_columns(path, header, "cmmlu")
    if not rows:
        raise DataError.at(path, None, "no rows", "a CMMLU CSV needs at least one question")
    subject = subject or path.stem
    out: list[Row] = []
    for line, row in rows:
        question = _need(path, line, row, "Question")
        answer = row.get("Answer", "").upper()
        if answer not in CHOICE_LETTERS:
            raise DataError.at(path, line, f"Answer {row.get('Answer')!r} is not one of A-D")
        pairs = [
            question_to_statement(question, _need(path, line, row, k), lang) for k in CHOICE_LETTERS
        ]
        firsts = {first for first, _ in pairs}
        if len(firsts) != 1:
            raise DataError.at(path, line, "the options do not share one statement context")
        record: Row = {"uttid": len(out), "first": pairs[0][0]}
        record.update({k: cont for k, (_, cont) in zip(CHOICE_LETTERS, pairs, strict=True)})
        record["answer"] = answer
        record["subject"] = subject
        out.append(record)
    return out


def import_statement_csv(path: Path, subject: str | None = None) -> list[Row]:
    """Already-rewritten statements (``first, A, B, C, D, answer``) taken as they are."""
    path = Path(path)
    header, rows = _read_csv(path)
    require_columns(path, header, "statements")
    if not rows:
        raise DataError.at(path, None, "no rows")
    out: list[Row] = []
    for line, row in rows:
        given = row.get("uttid", "")
        plain = re.fullmatch(r"[0-9]{1,18}", given) is not None  # ASCII digits, an int64
        record: Row = {"uttid": int(given) if plain else len(out)}
        for column in STATEMENT_COLUMNS:
            record[column] = _need(path, line, row, column)
        record["answer"] = record["answer"].upper()
        if record["answer"] not in CHOICE_LETTERS:
            raise DataError.at(path, line, f"answer {row['answer']!r} is not one of A-D")
        if subject or row.get("subject"):
            record["subject"] = subject or row["subject"]
        out.append(record)
    return out


def import_jsonl(path: Path, kind: str, subject: str | None = None) -> list[Row]:
    """Reference (or statement) JSONL rows, checked and sorted by uttid, extra keys kept."""
    path = Path(path)
    fields = ("first", "last") if kind == "story" else STATEMENT_COLUMNS
    out: list[Row] = []
    for line, record in read_jsonl(path):
        row: Row = {"uttid": require_uttid(path, line, record)}
        for field in fields:
            row[field] = require_text(path, line, record, field).strip()
        for key, value in record.items():
            row.setdefault(key, value)
        if subject and kind == "choice":
            row["subject"] = subject
        out.append(row)
    if not out:
        raise DataError.at(path, None, "no rows")
    return sorted(out, key=lambda r: r["uttid"])


def import_source(
    path: Path, kind: str, lang: str, fmt: str = "auto", subject: str | None = None
) -> tuple[str, list[Row]]:
    """Read any supported source; returns ``(format, rows)`` and checks it fits ``kind``."""
    path = Path(path)
    fmt = detect_format(path, kind) if fmt == "auto" else fmt
    expected = {"storycloze": "story", "cmmlu": "choice", "statements": "choice"}
    if fmt in expected and expected[fmt] != kind:
        raise DataError.at(
            path,
            None,
            f"a {fmt} file makes '{expected[fmt]}' items, not '{kind}'",
            f"pass --kind {expected[fmt]}",
        )
    if fmt == "storycloze":
        return fmt, import_storycloze_csv(path, lang)
    if fmt == "cmmlu":
        return fmt, import_cmmlu_csv(path, lang, subject)
    if fmt == "statements":
        return fmt, import_statement_csv(path, subject)
    if fmt == "jsonl":
        return fmt, import_jsonl(path, kind, subject)
    raise DataError.at(
        path,
        None,
        f"unknown source format '{fmt}'",
        "use auto, storycloze, cmmlu, statements or jsonl",
    )
