"""A source CSV that fits no known layout: the error names the column that is missing.

For each importer format (StoryCloze, CMMLU, statements), a header lacking one required
column is refused with that column named, for auto-detection, an explicit ``--format`` and
the CLI's one-line error; a header sharing nothing with any layout lists what each needs.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from s2sbench.cli.main import main
from s2sbench.core.errors import DataError
from s2sbench.data.csv_layout import CSV_LAYOUTS
from s2sbench.data.importers import detect_format, import_source

ROWS = {
    "storycloze": ["a.", "b.", "c.", "d.", "right.", "wrong.", "1"],
    "cmmlu": ["Q?", "x", "y", "z", "w", "A"],
    "statements": ["The sky is", "blue.", "green.", "red.", "loud.", "A"],
}


def write(path: Path, header: list[str], row: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, row])
    return path


@pytest.mark.parametrize(
    ("fmt", "dropped", "label"),
    [
        ("storycloze", "AnswerRightEnding", "StoryCloze"),
        ("storycloze", "InputSentence3", "StoryCloze"),
        ("cmmlu", "Question", "CMMLU"),
        ("statements", "first", "statement"),
        ("statements", "answer", "statement"),
    ],
)
def test_one_missing_column_is_named_for_each_layout(
    tmp_path: Path, fmt: str, dropped: str, label: str
) -> None:
    _, kind, columns = CSV_LAYOUTS[fmt]
    keep = [i for i, c in enumerate(columns) if c != dropped]
    path = write(tmp_path / "x.csv", [columns[i] for i in keep], [ROWS[fmt][i] for i in keep])
    expected = rf"x\.csv:1: not a {label} CSV: missing column '{dropped}' -- "
    with pytest.raises(DataError, match=expected):
        detect_format(path, kind)
    with pytest.raises(DataError, match=expected):
        import_source(path, kind, "en", fmt)  # the explicit format says the same
    full = write(tmp_path / "ok.csv", list(columns), ROWS[fmt])
    assert detect_format(full, kind) == fmt  # and the whole header is recognised


def test_a_wrongly_cased_column_is_pointed_out(tmp_path: Path) -> None:
    header = ["Question", "A", "B", "C", "D", "answer"]  # CMMLU spells it Answer
    path = write(tmp_path / "c.csv", header, ROWS["cmmlu"])
    with pytest.raises(DataError) as caught:
        detect_format(path, "choice")
    assert "not a CMMLU CSV: missing column 'Answer' (found 'answer'" in str(caught.value)


def test_no_shared_column_lists_what_each_layout_needs(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.csv", ["a", "b"], ["1", "2"])
    with pytest.raises(DataError) as caught:
        detect_format(path)
    message = str(caught.value)
    assert "unrecognised CSV columns a, b" in message
    assert "a StoryCloze CSV needs 'InputSentence1'," in message
    assert "'AnswerRightEnding'" in message and "a CMMLU CSV needs 'Question'" in message
    with pytest.raises(DataError) as story_only:
        detect_format(path, "story")  # --kind story: only the layout that makes stories
    assert "CMMLU" not in str(story_only.value)


def test_the_cli_says_it_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    columns = [c for c in CSV_LAYOUTS["storycloze"][2] if c != "AnswerRightEnding"]
    path = write(tmp_path / "stories.csv", columns, ROWS["storycloze"][:6])
    code = main(
        [
            "data",
            "build",
            str(path),
            "--kind",
            "story",
            "--lang",
            "en",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert "stories.csv:1: not a StoryCloze CSV: missing column 'AnswerRightEnding' -- " in err
    assert not (tmp_path / "o").exists()
