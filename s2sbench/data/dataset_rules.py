"""The one parser of reference dataset files: items plus every problem, one set of rules.

``run`` (through :func:`s2sbench.data.reference.read_items`) stops at the
first problem; ``data validate`` lists them all. Both call
:func:`parse_dataset`, so a file one accepts the other accepts too.

Rules, story files (rows ``{"uttid", "first", "last"}``): every line is one
JSON object with no duplicate key; integer uttids, each once; non-empty text
fields; sorted by uttid, rows 2k and 2k+1 are one story's right and wrong
ending: consecutive uttids, the first one even, the same context, different
endings; an even number of rows. Choice files (rows ``{"uttid", "first",
"A".."D", "answer"}``): the same per-row rules, an answer letter A-D, and
four different options (two equal options tie, and a tie counts as right).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2sbench.core.errors import DataError
from s2sbench.core.item import Item
from s2sbench.data.jsonl import iter_jsonl, require_text, require_uttid

CHOICE_LETTERS = ("A", "B", "C", "D")
PAIR_HINT = "rows 2k and 2k+1 (by uttid) are the right and the wrong ending of one story"


@dataclass(frozen=True)
class Problem:
    """One broken rule: the file (and line), what is wrong, the record, and what to do."""

    file: Path
    message: str
    line: int | None = None
    record: str | None = None
    hint: str | None = None

    def error(self) -> DataError:
        return DataError.at(self.file, self.line, self.message, self.hint)


@dataclass(frozen=True)
class Row:
    """A row whose uttid and text fields passed the per-row rules."""

    line: int
    uttid: int
    record: dict[str, Any]


@dataclass
class ParsedDataset:
    """What :func:`parse_dataset` found: the good rows (by uttid), the items, the problems."""

    path: Path
    kind: str
    rows: list[Row] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def items_or_raise(self) -> list[Item]:
        """The items, or the first problem as a one-line :class:`DataError`."""
        if self.problems:
            raise self.problems[0].error()
        return self.items


def _audio(audio_dir: Path | None, uttid: int) -> Path | None:
    return None if audio_dir is None else Path(audio_dir) / f"{uttid}.wav"


class _Parser:
    def __init__(self, path: Path, kind: str, lang: str, audio_dir: Path | None) -> None:
        self.out = ParsedDataset(Path(path), kind)
        self.lang = lang
        self.audio_dir = audio_dir
        self.fields = ("first", "last") if kind == "story" else ("first", *CHOICE_LETTERS)

    def add(self, message: str, line: int | None, uttid: int | None = None, hint: str = "") -> None:
        record = None if uttid is None else f"uttid {uttid}"
        self.out.problems.append(Problem(self.out.path, message, line, record, hint or None))

    def rows(self) -> list[tuple[Row, bool]]:
        """Rows with a usable uttid, each with whether its text fields are good."""
        path = self.out.path
        found: list[tuple[Row, bool]] = []
        seen: dict[int, int] = {}
        for line, record in iter_jsonl(path):
            if isinstance(record, DataError):
                self.add(record.what, line, hint=record.hint or "")
                continue
            try:
                uttid: int | None = require_uttid(path, line, record)
            except DataError as exc:
                self.add(exc.what, line, hint=exc.hint or "")
                uttid = None
            good = True
            for name in self.fields:
                try:
                    require_text(path, line, record, name)
                except DataError as exc:
                    self.add(exc.what, line, uttid, exc.hint or "")
                    good = False
            if self.out.kind == "choice":
                good = self.choice_row(line, uttid, record) and good
            if uttid is None:
                continue
            if uttid in seen:
                self.add(
                    f"duplicate uttid {uttid} (first on line {seen[uttid]})",
                    line,
                    uttid,
                    "every row needs its own uttid",
                )
                continue
            seen[uttid] = line
            found.append((Row(line, uttid, record), good))
        if not seen and not self.out.problems:
            self.add("no rows", None, hint="a dataset file needs at least one record")
        found.sort(key=lambda pair: pair[0].uttid)
        self.out.rows = [row for row, good in found if good]
        return found

    def choice_row(self, line: int, uttid: int | None, record: dict[str, Any]) -> bool:
        good = True
        if "answer" not in record:
            self.add("missing field 'answer'", line, uttid, "give the letter A-D")
            good = False
        else:
            answer = record["answer"]
            if not isinstance(answer, str) or answer.strip().upper() not in CHOICE_LETTERS:
                shown = repr(answer) if len(repr(answer)) <= 40 else repr(answer)[:37] + "..."
                self.add(
                    f"answer {shown} is not one of A, B, C, D", line, uttid, "fix the answer letter"
                )
                good = False
        texts = {k: record[k].strip() for k in CHOICE_LETTERS if isinstance(record.get(k), str)}
        for i, a in enumerate(CHOICE_LETTERS):
            for b in CHOICE_LETTERS[i + 1 :]:
                if a in texts and b in texts and texts[a] and texts[a] == texts[b]:
                    self.add(
                        f"options {a} and {b} are the same text",
                        line,
                        uttid,
                        "each option must differ (a tie counts as right); fix the row",
                    )
                    good = False
        return good

    def story_items(self, found: list[tuple[Row, bool]]) -> None:
        for k in range(0, len(found) - 1, 2):
            (right, good_r), (wrong, good_w) = found[k], found[k + 1]
            if wrong.uttid != right.uttid + 1:
                self.add(
                    f"bad pair: uttid {wrong.uttid} does not follow {right.uttid}",
                    wrong.line,
                    wrong.uttid,
                    PAIR_HINT,
                )
            elif not (good_r and good_w):
                pass  # the row's own problem is already reported
            elif right.record["first"].strip() != wrong.record["first"].strip():
                self.add(
                    f"bad pair: uttid {wrong.uttid} has a different context than "
                    f"uttid {right.uttid}",
                    wrong.line,
                    wrong.uttid,
                    "both rows of a pair must share the same context",
                )
            elif right.record["last"].strip() == wrong.record["last"].strip():
                self.add(
                    f"bad pair: uttids {right.uttid} and {wrong.uttid} have the same ending",
                    wrong.line,
                    wrong.uttid,
                    "the wrong ending must differ from the right one; fix or drop the pair",
                )
            if right.uttid % 2:
                self.add(
                    f"bad pair: uttid {right.uttid} opens a pair but is odd",
                    right.line,
                    right.uttid,
                    PAIR_HINT + " (the right ending's uttid is even)",
                )
        if len(found) % 2:
            last = found[-1][0]
            self.add(
                f"bad pair: odd number of story rows ({len(found)}), uttid {last.uttid} "
                "has no pair",
                last.line,
                last.uttid,
                "each story needs a right-ending row (even) and a wrong-ending row (odd)",
            )
        if not self.out.problems:
            pairs = zip(found[0::2], found[1::2], strict=True)
            self.out.items = [self.story_item(right, wrong) for (right, _), (wrong, _) in pairs]

    def story_item(self, right: Row, wrong: Row) -> Item:
        right_audio = _audio(self.audio_dir, right.uttid)
        wrong_audio = _audio(self.audio_dir, wrong.uttid)
        both = None if right_audio is None or wrong_audio is None else (right_audio, wrong_audio)
        return Item(
            id=str(right.uttid),
            lang=self.lang,
            context_text=right.record["first"].strip(),
            continuations=(right.record["last"].strip(), wrong.record["last"].strip()),
            gold=0,
            context_audio=right_audio,
            context_audios=both,
            meta={"uttids": [right.uttid, wrong.uttid], "line": right.line},
        )

    def choice_items(self) -> None:
        if self.out.problems:
            return
        for row in self.out.rows:
            record = row.record
            meta: dict[str, Any] = {"uttids": [row.uttid], "line": row.line}
            for key in ("subject", "category"):
                if isinstance(record.get(key), str):
                    meta["subject"] = record[key]
                    break
            self.out.items.append(
                Item(
                    id=str(row.uttid),
                    lang=self.lang,
                    context_text=record["first"].strip(),
                    continuations=tuple(record[k].strip() for k in CHOICE_LETTERS),
                    gold=CHOICE_LETTERS.index(record["answer"].strip().upper()),
                    context_audio=_audio(self.audio_dir, row.uttid),
                    meta=meta,
                )
            )


def parse_dataset(kind: str, path: Path, lang: str, audio_dir: Path | None = None) -> ParsedDataset:
    """Read a reference JSONL of ``kind`` (story or choice): items, good rows and all problems.

    A file that cannot be read at all (missing, a FIFO, UTF-16) raises its
    one-line error; everything else is a :class:`Problem`, in file order for
    the rows and uttid order for the story pairs. Items are built only when
    there is no problem.
    """
    path = Path(path)
    if kind not in ("story", "choice"):
        raise DataError.at(path, None, f"unknown task kind {kind!r}", "use 'story' or 'choice'")
    parser = _Parser(path, kind, lang, audio_dir)
    found = parser.rows()
    if kind == "story":
        parser.story_items(found)
    else:
        parser.choice_items()
    return parser.out
