"""Importers: StoryCloze / xStoryCloze / CMMLU CSVs, statement files and JSONL -> reference rows."""

from __future__ import annotations

import json

import pytest
from data_samples import STORIES_EN, STORY_HEADER, cmmlu_csv, story_csv, write_csv

from s2sbench.core.errors import DataError
from s2sbench.data.importers import (
    detect_format,
    import_cmmlu_csv,
    import_source,
    import_statement_csv,
    import_storycloze_csv,
    question_to_statement,
)
from s2sbench.data.layout import rows_to_jsonl
from s2sbench.data.reference import read_items


def test_storycloze_rows_put_the_right_ending_on_the_even_uttid(tmp_path):
    rows = import_storycloze_csv(story_csv(tmp_path, "en"), "en")
    assert [r["uttid"] for r in rows] == list(range(6))
    assert rows[0]["first"] == (
        "Tom wanted a dog. He saved his money for a year. He went to the shelter. "
        "He saw a small brown puppy."
    )
    assert rows[0]["first"] == rows[1]["first"]
    assert (rows[0]["last"], rows[1]["last"]) == (
        "Tom adopted the puppy.",
        "Tom bought a fish instead.",
    )
    # AnswerRightEnding = 2: the second quiz sentence is the right one.
    assert (rows[2]["last"], rows[3]["last"]) == (
        "Her brother had the keys.",
        "Anna never left the house again.",
    )


def test_xstorycloze_chinese_joins_sentences_without_spaces(tmp_path):
    rows = import_storycloze_csv(story_csv(tmp_path, "zh"), "zh")
    assert rows[0]["first"] == "小王想吃饺子。他去市场买了肉。他回家包了饺子。饺子煮好了。"
    assert rows[3]["last"] == "她在公园里游泳。"  # answer 2: quiz 1 is the wrong ending


def test_imported_rows_read_back_through_the_reference_reader(tmp_path):
    rows = import_storycloze_csv(story_csv(tmp_path, "en"), "en")
    path = tmp_path / "data.jsonl"
    path.write_bytes(rows_to_jsonl(rows))
    items = read_items("story", path, "en")
    assert len(items) == 3
    assert items[1].continuations[items[1].gold] == "Her brother had the keys."


def test_bad_answer_names_the_csv_line(tmp_path):
    bad = [*STORIES_EN[:2], [*STORIES_EN[2][:-1], "3"]]
    path = write_csv(tmp_path / "bad.csv", STORY_HEADER, bad)
    with pytest.raises(DataError, match=r"bad\.csv:4: AnswerRightEnding '3' must be 1 or 2"):
        import_storycloze_csv(path, "en")


def test_empty_sentence_names_the_line_and_column(tmp_path):
    bad = [STORIES_EN[0], [*STORIES_EN[1][:2], "", *STORIES_EN[1][3:]]]
    path = write_csv(tmp_path / "bad.csv", STORY_HEADER, bad)
    with pytest.raises(DataError, match=r"bad\.csv:3: column 'InputSentence2' is empty"):
        import_storycloze_csv(path, "en")


@pytest.mark.parametrize(
    ("question", "option", "lang", "expected"),
    [
        (
            "世界上海拔最高的山峰是____。",
            "珠穆朗玛峰",
            "zh",
            ("世界上海拔最高的山峰是", "珠穆朗玛峰。"),
        ),
        ("北京是哪个国家的首都？", "中国", "zh", ("北京是哪个国家的首都？答案是", "中国。")),
        ("中国最长的河流是", "长江", "zh", ("中国最长的河流是", "长江。")),
        (
            "What is the capital of France?",
            "Paris",
            "en",
            ("What is the capital of France? The answer is", "Paris."),
        ),
        (
            "Water boils at ( ) degrees at sea level.",
            "100",
            "en",
            ("Water boils at", "100 degrees at sea level."),
        ),
    ],
)
def test_statement_template(question, option, lang, expected):
    assert question_to_statement(question, option, lang) == expected


def test_cmmlu_csv_makes_choice_rows_with_subject_from_file_name(tmp_path):
    rows = import_cmmlu_csv(cmmlu_csv(tmp_path), "zh")
    assert [r["answer"] for r in rows] == ["A", "B", "C"]
    assert {r["subject"] for r in rows} == {"geography"}
    assert rows[1]["first"] == "世界上海拔最高的山峰是"
    assert rows[1]["B"] == "珠穆朗玛峰。"
    path = tmp_path / "c.jsonl"
    path.write_bytes(rows_to_jsonl(rows))
    items = read_items("choice", path, "zh")
    assert items[2].continuations[items[2].gold] == "中国。"
    assert items[0].subject == "geography"


def test_statement_files_are_taken_as_is(tmp_path):
    header = ["uttid", "first", "A", "B", "C", "D", "answer"]
    path = write_csv(
        tmp_path / "s.csv",
        header,
        [["7", "水的沸点是", "一百度。", "五十度。", "零度。", "二百度。", "a"]],
    )
    rows = import_statement_csv(path)
    assert rows == [
        {
            "uttid": 7,
            "first": "水的沸点是",
            "A": "一百度。",
            "B": "五十度。",
            "C": "零度。",
            "D": "二百度。",
            "answer": "A",
        }
    ]
    assert detect_format(path) == "statements"


def test_jsonl_source_is_sorted_and_checked(tmp_path):
    path = tmp_path / "x.jsonl"
    lines = [{"uttid": 1, "first": "c", "last": "w"}, {"uttid": 0, "first": "c", "last": "r"}]
    path.write_text("\n".join(json.dumps(r) for r in lines), encoding="utf-8")
    fmt, rows = import_source(path, "story", "en")
    assert fmt == "jsonl" and [r["uttid"] for r in rows] == [0, 1]
    path.write_text(json.dumps({"uttid": 0, "first": "c"}), encoding="utf-8")
    with pytest.raises(DataError, match=r"x\.jsonl:1: missing field 'last'"):
        import_source(path, "story", "en")


def test_format_detection_and_kind_mismatch(tmp_path):
    assert detect_format(story_csv(tmp_path, "en")) == "storycloze"
    assert detect_format(cmmlu_csv(tmp_path)) == "cmmlu"
    with pytest.raises(DataError, match="pass --kind choice"):
        import_source(cmmlu_csv(tmp_path), "story", "zh")
    odd = write_csv(tmp_path / "odd.csv", ["a", "b"], [["1", "2"]])
    with pytest.raises(DataError, match="unrecognised CSV columns"):
        detect_format(odd)
