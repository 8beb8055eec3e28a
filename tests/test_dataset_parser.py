"""One parser for the dataset rules: ``run`` stops at the first problem, ``validate`` lists all.

Every rule is broken on purpose in a small dataset folder, then checked three
ways: the parser's problem list, ``data validate`` (every problem, one line
each, exit 2) and ``run`` (the first problem, one stderr line, exit 2, the
earlier results in its output folder untouched). Whatever one accepts the
other accepts, and whatever one refuses the other refuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from s2sbench.cli.main import main
from s2sbench.core.errors import DataError
from s2sbench.data.dataset_rules import parse_dataset
from s2sbench.data.reference import read_items
from s2sbench.data.validate import validate_dataset

HASH = "fake_models:HashModel"


def story_rows(n: int = 2) -> list[dict[str, Any]]:
    rows = []
    for k in range(n):
        first = f"Story {k} starts. It goes on."
        rows.append({"uttid": 2 * k, "first": first, "last": f"Right end {k}."})
        rows.append({"uttid": 2 * k + 1, "first": first, "last": f"Wrong end {k}."})
    return rows


def choice_rows(n: int = 2) -> list[dict[str, Any]]:
    return [
        {"uttid": u, "first": f"Fact {u} is", "A": "wet.", "B": "dry.", "C": "red.", "D": "odd."}
        | {"answer": "A"}
        for u in range(n)
    ]


def lines(rows: list[Any]) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def dataset(root: Path, text: str, kind: str = "story") -> Path:
    """A dataset folder: data.jsonl, task.yaml and one tone per row (uttids 0..9)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.jsonl").write_text(text, encoding="utf-8")
    (root / "task.yaml").write_text(
        f"name: rules\nkind: {kind}\nlanguage: en\njsonl: data.jsonl\naudio_dir: audio\n"
    )
    (root / "audio").mkdir(exist_ok=True)
    for row in text.splitlines():
        try:
            uttid = int(json.loads(row)["uttid"])
        except (ValueError, KeyError, TypeError):
            continue
        t = np.arange(8000) / 16000
        sf.write(str(root / "audio" / f"{uttid}.wav"), 0.3 * np.sin(2 * np.pi * 220 * t), 16000)
    return root


def text_problems(root: Path) -> list[str]:
    """``data validate``'s problems that concern the text file."""
    return [str(p) for p in validate_dataset(root) if p.file == "data.jsonl"]


def _story(change: Callable[[list[dict[str, Any]]], Any]) -> str:
    rows = story_rows()
    change(rows)
    return lines(rows)


# name -> (kind, file text, the first problem's "data.jsonl:<line>: <message>")
BROKEN: dict[str, tuple[str, str, str]] = {
    "identical_endings": (
        "story",
        _story(lambda r: r[3].update(last="Right end 1.")),
        "data.jsonl:4: bad pair: uttids 2 and 3 have the same ending",
    ),
    "duplicate_key_making_endings_identical": (
        "story",
        lines(
            [
                *story_rows()[:3],
                '{"uttid": 3, "first": "Story 1 starts. It goes on.", "last": "Wrong end 1.", '
                '"last": "Right end 1."}',
            ]
        ),
        "data.jsonl:4: duplicate key 'last' in one record",
    ),
    "duplicate_key_nested": (
        "story",
        _story(lambda r: None).replace('"uttid": 0,', '"uttid": 0, "meta": {"a": 1, "a": 2},'),
        "data.jsonl:1: duplicate key 'a' in one record",
    ),
    "pair_opens_on_odd_uttid": (
        "story",
        lines([{**row, "uttid": row["uttid"] + 1} for row in story_rows()]),
        "data.jsonl:1: bad pair: uttid 1 opens a pair but is odd",
    ),
    "choice_two_identical_options": (
        "choice",
        lines([*choice_rows(1), {**choice_rows(2)[1], "C": "dry."}]),
        "data.jsonl:2: options B and C are the same text",
    ),
    "choice_answer_equals_a_distractor_after_strip": (
        "choice",
        lines([{**choice_rows(1)[0], "A": " wet. ", "D": "wet."}]),
        "data.jsonl:1: options A and D are the same text",
    ),
    "not_consecutive": (
        "story",
        _story(lambda r: r[3].update(uttid=9)),
        "data.jsonl:4: bad pair: uttid 9 does not follow 2",
    ),
    "different_context": (
        "story",
        _story(lambda r: r[1].update(first="Other.")),
        "data.jsonl:2: bad pair: uttid 1 has a different context than uttid 0",
    ),
    "odd_number_of_rows": (
        "story",
        lines(story_rows()[:3]),
        "data.jsonl:3: bad pair: odd number of story rows (3), uttid 2 has no pair",
    ),
    "duplicate_uttid": (
        "story",
        _story(lambda r: r[3].update(uttid=1)),
        "data.jsonl:4: duplicate uttid 1 (first on line 2)",
    ),
    "answer_not_a_letter": (
        "choice",
        lines([{**choice_rows(1)[0], "answer": "E"}]),
        "data.jsonl:1: answer 'E' is not one of A, B, C, D",
    ),
    "missing_field": (
        "story",
        _story(lambda r: r[2].pop("last")),
        "data.jsonl:3: missing field 'last'",
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_parser_validate_and_run_agree_on_each_rule(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    kind, text, first = BROKEN[name]
    root = dataset(tmp_path / "set", text, kind)
    parsed = parse_dataset(kind, root / "data.jsonl", "en")
    assert parsed.problems and parsed.items == []
    head = parsed.problems[0]
    assert f"{head.file.name}:{head.line}: {head.message}" == first

    found = text_problems(root)
    assert any(p.startswith(first) for p in found), found
    with pytest.raises(DataError) as err:
        read_items(kind, root / "data.jsonl", "en")
    assert str(err.value).startswith(f"{root / first}"), str(err.value)

    out = tmp_path / "out"
    common = ["--model", HASH, "--conditions", "t2t", "--output-path", str(out), "--no-progress"]
    assert main(["run", *common, "--tasks", "sample_story_en", "--limit", "2"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    code = main(["run", *common, "--tasks", str(root / "task.yaml")])
    err_text = capsys.readouterr().err
    assert code == 2 and len(err_text.splitlines()) == 1 and "Traceback" not in err_text
    assert f"{root / first}" in err_text and " -- " in err_text
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before

    capsys.readouterr()
    assert main(["data", "validate", str(root)]) == 2
    printed = capsys.readouterr().out.splitlines()
    assert any(line.startswith(first) for line in printed)


def test_validate_lists_every_problem_run_stops_at_the_first(tmp_path: Path) -> None:
    rows = story_rows(3)
    rows[1]["last"] = rows[0]["last"]  # line 2: same ending as line 1
    rows[3]["first"] = "Elsewhere."  # line 4: another context
    text = lines(rows) + '{"uttid": 6, "first": "x", "last": "y", "first": "z"}\n'
    root = dataset(tmp_path / "set", text)
    found = [p for p in text_problems(root) if not p.startswith("data.jsonl: ")]  # by line
    assert [p.split(": ", 1)[0] for p in found] == ["data.jsonl:7", "data.jsonl:2", "data.jsonl:4"]
    assert "duplicate key 'first'" in found[0]
    assert "same ending" in found[1] and "different context" in found[2]
    with pytest.raises(DataError, match=r"data\.jsonl:7: duplicate key 'first'"):
        read_items("story", root / "data.jsonl", "en")


def test_a_clean_file_gives_the_same_items_to_run_and_no_problems_to_validate(
    tmp_path: Path,
) -> None:
    root = dataset(tmp_path / "set", lines(list(reversed(story_rows(3)))))
    parsed = parse_dataset("story", root / "data.jsonl", "en", root / "audio")
    assert parsed.problems == [] and validate_dataset(root) == []
    items = read_items("story", root / "data.jsonl", "en", root / "audio")
    assert items == parsed.items and [i.id for i in items] == ["0", "2", "4"]
    assert [u for row in parsed.rows for u in [row.uttid]] == list(range(6))


def test_every_good_row_of_a_broken_file_is_still_checked_for_audio(tmp_path: Path) -> None:
    """A text problem in one pair does not hide the audio problems of the others."""
    rows = story_rows(2)
    rows[1]["last"] = rows[0]["last"]
    root = dataset(tmp_path / "set", lines(rows))
    (root / "audio" / "3.wav").unlink()
    found = [str(p) for p in validate_dataset(root)]
    assert any("same ending" in p for p in found)
    assert "audio/3.wav: missing audio file (record uttid 3)" in found


def test_the_reader_and_validate_share_one_rule_set() -> None:
    """No second copy of the rules: both modules import the one parser."""
    import s2sbench.data.reference as reference
    import s2sbench.data.validate as validate

    assert reference.parse_dataset is validate.parse_dataset is parse_dataset
    source = Path(reference.__file__).read_text() + Path(validate.__file__).read_text()
    assert "require_uttid" not in source and "does not follow" not in source
