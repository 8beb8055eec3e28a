"""Tiny source files (StoryCloze, xStoryCloze, CMMLU CSVs) for the dataset-builder tests."""

from __future__ import annotations

import csv
from pathlib import Path

STORY_HEADER = [
    "InputStoryid",
    "InputSentence1",
    "InputSentence2",
    "InputSentence3",
    "InputSentence4",
    "RandomFifthSentenceQuiz1",
    "RandomFifthSentenceQuiz2",
    "AnswerRightEnding",
]

STORIES_EN = [
    [
        "s1",
        "Tom wanted a dog.",
        "He saved his money for a year.",
        "He went to the shelter.",
        "He saw a small brown puppy.",
        "Tom adopted the puppy.",
        "Tom bought a fish instead.",
        "1",
    ],
    [
        "s2",
        "Anna lost her keys.",
        "She looked under the sofa.",
        "She checked her coat.",
        "She asked her brother.",
        "Anna never left the house again.",
        "Her brother had the keys.",
        "2",
    ],
    [
        "s3",
        "It was raining hard.",
        "Sam forgot his umbrella.",
        "He ran to the bus stop.",
        "The bus was late.",
        "Sam got very wet.",
        "Sam felt dry and warm.",
        "1",
    ],
]

STORIES_ZH = [
    [
        "z1",
        "小王想吃饺子。",
        "他去市场买了肉。",
        "他回家包了饺子。",
        "饺子煮好了。",
        "他吃得很开心。",
        "他把饺子扔了。",
        "1",
    ],
    [
        "z2",
        "天气很冷。",
        "小丽穿上了大衣。",
        "她走到公园。",
        "公园里有很多雪。",
        "她在公园里游泳。",
        "她和朋友堆了雪人。",
        "2",
    ],
    [
        "z3",
        "老师布置了作业。",
        "小明认真地写。",
        "他写完后检查了一遍。",
        "第二天交给了老师。",
        "老师表扬了他。",
        "老师从来没有来过学校。",
        "1",
    ],
]

CMMLU_HEADER = ["", "Question", "A", "B", "C", "D", "Answer"]
CMMLU_ZH = [
    ["0", "中国最长的河流是", "长江", "黄河", "珠江", "黑龙江", "A"],
    ["1", "世界上海拔最高的山峰是____。", "乔戈里峰", "珠穆朗玛峰", "干城章嘉峰", "洛子峰", "B"],
    ["2", "北京是哪个国家的首都？", "日本", "韩国", "中国", "蒙古", "C"],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def story_csv(folder: Path, lang: str = "en", name: str | None = None) -> Path:
    rows = STORIES_EN if lang == "en" else STORIES_ZH
    return write_csv(Path(folder) / (name or f"story_{lang}.csv"), STORY_HEADER, rows)


def cmmlu_csv(folder: Path, name: str = "geography.csv") -> Path:
    return write_csv(Path(folder) / name, CMMLU_HEADER, CMMLU_ZH)
