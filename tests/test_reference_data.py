"""Reference-layout readers: correct items from good files, one-line errors for bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s2sbench.cli.main import main
from s2sbench.core.errors import DataError
from s2sbench.data.reference import read_choice_file, read_story_file
from s2sbench.tasks.registry import BUILTIN_TASKS, resolve_tasks


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def story_rows(n: int = 2) -> list[dict]:
    rows = []
    for k in range(n):
        first = f"Story {k} starts. It goes on."
        rows.append({"uttid": 2 * k, "first": first, "last": f"Right end {k}."})
        rows.append({"uttid": 2 * k + 1, "first": first, "last": f"Wrong end {k}."})
    return rows


def choice_row(uttid: int, answer: str = "B") -> dict:
    return {
        "uttid": uttid,
        "first": "天空的颜色是",
        "A": "绿色。",
        "B": "蓝色。",
        "C": "红色。",
        "D": "黑色。",
        "answer": answer,
        "subject": "physics",
    }


def test_story_pairs_become_items(tmp_path: Path) -> None:
    rows = story_rows(3)
    path = write_rows(tmp_path / "s.jsonl", list(reversed(rows)))  # sorted by int uttid
    items = read_story_file(path, "en", tmp_path / "wav")
    assert [i.id for i in items] == ["0", "2", "4"]
    assert items[1].continuations == ("Right end 1.", "Wrong end 1.")
    assert items[1].gold == 0
    assert items[1].context_audio == tmp_path / "wav" / "2.wav"
    assert list(items[1].meta["uttids"]) == [2, 3]


def test_choice_rows_become_items(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.jsonl", [choice_row(5, "C"), choice_row(4, "b")])
    items = read_choice_file(path, "zh")
    assert [i.id for i in items] == ["4", "5"]
    assert [i.gold for i in items] == [1, 2]
    assert items[0].subject == "physics"


@pytest.mark.parametrize(
    ("mutate", "message", "line"),
    [
        (lambda r: r.pop(), "odd number of story rows", 3),
        (lambda r: r.__setitem__(1, {**r[1], "uttid": 0}), "duplicate uttid 0", 2),
        (lambda r: r.__setitem__(3, {**r[3], "uttid": 9}), "uttid 9 does not follow 2", 4),
        (lambda r: r.__setitem__(1, {**r[1], "first": "Other."}), "different context", 2),
        (lambda r: r[2].pop("last"), "missing field 'last'", 3),
        (lambda r: r.__setitem__(0, {**r[0], "first": "   "}), "field 'first' is empty", 1),
        (lambda r: r.__setitem__(0, {**r[0], "uttid": "x1"}), "is not an integer", 1),
    ],
)
def test_story_errors_name_file_and_line(tmp_path: Path, mutate, message: str, line: int) -> None:
    rows = story_rows(2)
    mutate(rows)
    path = write_rows(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataError) as err:
        read_story_file(path, "en")
    assert message in str(err.value)
    assert f"bad.jsonl:{line}" in str(err.value)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**choice_row(0), "answer": "E"}, "answer 'E' is not one of A, B, C, D"),
        ({k: v for k, v in choice_row(0).items() if k != "answer"}, "missing field 'answer'"),
        ({k: v for k, v in choice_row(0).items() if k != "C"}, "missing field 'C'"),
        ({**choice_row(0), "D": ""}, "field 'D' is empty"),
    ],
)
def test_choice_errors(tmp_path: Path, row: dict, message: str) -> None:
    path = write_rows(tmp_path / "bad.jsonl", [choice_row(1), row])
    with pytest.raises(DataError, match=message) as err:
        read_choice_file(path, "zh")
    assert "bad.jsonl:2" in str(err.value)


def test_invalid_json_and_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"uttid": 0, "first": "a", "last": "b"}\n{"uttid": 1,\n')
    with pytest.raises(DataError, match=r"x.jsonl:2: invalid JSON"):
        read_story_file(path, "en")
    path.write_bytes(b'{"uttid": 0, "first": "\xff", "last": "b"}\n')
    with pytest.raises(DataError, match=r"x.jsonl:1: invalid UTF-8"):
        read_story_file(path, "en")


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    text = "".join(json.dumps(r) + "\r\n" for r in story_rows(1))
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert len(read_story_file(path, "en")) == 1


def test_builtin_suite_sizes() -> None:
    sizes = {name: spec.load() for name, spec in BUILTIN_TASKS.items()}
    assert len(sizes["sample_story_en"]) >= 40
    assert len(sizes["sample_story_zh"]) >= 40
    cmmlu = sizes["sample_cmmlu"]
    assert len(cmmlu) >= 60
    subjects = {item.subject for item in cmmlu.items}
    assert len(subjects) >= 6
    assert all(len(item.continuations) == 4 for item in cmmlu.items)


def test_paper_tasks_resolve_under_data_dir(tmp_path: Path) -> None:
    specs = resolve_tasks("sstorycloze,zh_sstorycloze,scmmlu", tmp_path)
    assert specs[0].jsonl == tmp_path / "S2S/StoryCloze/sStory_s2t.jsonl"
    assert specs[0].audio_dir == tmp_path / "S2S/StoryCloze/s-story-firstspeech"
    assert specs[1].jsonl == tmp_path / "S2S/StoryCloze/zh_story.jsonl"
    assert specs[2].audio_dir == tmp_path / "S2S/cmmlu/cmmlu_rewrite"


def test_cli_bad_data_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rows = story_rows(2)
    rows.pop()
    write_rows(tmp_path / "bad.jsonl", rows)
    (tmp_path / "task.yaml").write_text("kind: story\nlanguage: en\njsonl: bad.jsonl\n")
    code = main(
        [
            "run",
            "--model",
            "ngram",
            "--tasks",
            str(tmp_path / "task.yaml"),
            "--conditions",
            "t2t",
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "bad.jsonl:3" in err and "odd number" in err
    assert "Traceback" not in err
