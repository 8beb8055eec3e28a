"""``results_summary.txt`` byte-identical to what the reference eval code writes.

The reference (undobug/S2SBench, ``s2t/eval_story.py`` and ``eval_cmmlu4.py``)
reads each checkpoint's logged per-row losses and writes, per dataset
directory, ``f"{step},{acc:.2%},{right:.4f},{wrong:.4f}"`` per checkpoint in
step order. The formulas are re-implemented here from that code, applied to
the per-item losses a sweep logs (``samples_<task>_<condition>.jsonl``), and
the result compared byte for byte with what s2sbench wrote.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore
from s2sbench.metrics.accuracy import task_metrics
from s2sbench.reports.sweep_series import Point, summary_line
from s2sbench.scores.store import ScoreRecord
from s2sbench.sweeps import parse_summary
from s2sbench.sweeps.run_sweep import sweep
from s2sbench.tasks.registry import BUILTIN_TASKS

LETTERS = ("A", "B", "C", "D")


class CoarseModel:
    """A "checkpoint" is a folder with ``salt.txt``. Losses take four values (k/3, k=1..4), so
    ties are common and the tie rules (story: a tie is wrong; sCMMLU: a tie is right) and
    the float sums of thirds both matter. Hears the spoken context by its bytes."""

    name = "coarse"

    def __init__(self, pretrained: str, **_: Any) -> None:
        self.salt = (Path(pretrained) / "salt.txt").read_text()

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": self.name, "salt": self.salt}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return None if not condition.continuation_is_speech else "text continuations only"

    def score(self, requests: Sequence[ContextRequest]) -> Iterator[tuple[int, list[Any]]]:
        for index, request in enumerate(requests):
            if request.context_audio is not None:
                seed = hashlib.sha256(Path(request.context_audio).read_bytes()).hexdigest()
            else:
                seed = request.text_context
            scores = []
            for cont in request.continuations:
                d = hashlib.sha256(f"{self.salt}|{seed}|{cont}".encode()).digest()
                scores.append(ContinuationScore(-(1 + d[0] % 4) / 3, 1))
            yield index, scores


# -- the reference formulas, re-implemented from its eval code ---------------------------------
def reference_story(rows: list[tuple[int, float]]) -> tuple[float, float, float]:
    """eval_story.calculate_accuracy_and_average_loss on ``(uttid, loss)`` rows."""
    data = sorted(rows, key=lambda x: int(x[0]))
    even_all = odd_all = 0
    pairs = correct = 0
    for i in range(0, len(data), 2):
        if i + 1 < len(data):
            (even_id, even), (odd_id, odd) = data[i], data[i + 1]
            assert even_id == odd_id - 1
            even_all += even
            odd_all += odd
            correct += even < odd
            pairs += 1
    return correct / pairs, even_all / pairs, odd_all / pairs


def reference_cmmlu(
    questions: dict[int, str], id_loss: dict[int, dict[str, float]]
) -> tuple[float, float, float]:
    """eval_cmmlu4.calculate_accuracy_and_average_loss (questions in question-file order)."""
    correct = total = 0
    answers: list[float] = []
    others: list[float] = []
    for uttid, answer in questions.items():
        if uttid in id_loss and answer in id_loss[uttid]:
            losses = id_loss[uttid]
            for key in losses:
                if key != answer:
                    correct += losses[answer] <= losses[key]
                    total += 1
                    answers.append(losses[answer])
                    others.append(losses[key])
    return correct / total, sum(answers) / len(answers), sum(others) / len(others)


def reference_file(out: Path, task: str, condition: str) -> str:
    """process_directory(_story): checkpoint folders filtered and sorted as the reference does,
    lines sorted by step."""
    folders = sorted(
        (
            d
            for d in out.iterdir()
            if d.is_dir() and len(d.name.split("_")) > 2 and d.name.split("_")[1].isdigit()
        ),
        key=lambda d: int(d.name.split("_")[1]),
    )
    results = []
    for folder in folders:
        logged = folder / f"samples_{task}_{condition}.jsonl"
        rows = [json.loads(line) for line in logged.read_text().splitlines()]
        if BUILTIN_TASKS[task].kind == "story":  # row 2k+1 is item 2k's continuation 1
            numbers = reference_story(
                [(int(r["item_id"]) + r["continuation_index"], r["loss"]) for r in rows]
            )
        else:
            questions = {}
            for line in BUILTIN_TASKS[task].jsonl.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                questions[record["uttid"]] = record["answer"]
            id_loss: dict[int, dict[str, float]] = defaultdict(dict)
            for letter_index, letter in enumerate(LETTERS):  # result.jsonl: all A rows, then B...
                for r in rows:
                    if r["continuation_index"] == letter_index:
                        id_loss[int(r["item_id"])][letter] = r["loss"]
            numbers = reference_cmmlu(questions, id_loss)
        results.append((int(folder.name.split("_")[2]), *numbers))
    return "".join(
        f"{step},{acc:.2%},{right:.4f},{wrong:.4f}\n"
        for step, acc, right, wrong in sorted(results, key=lambda x: x[0])
    )


def reference_reader(text: str) -> list[tuple[int, float, float, float]]:
    """plot_and_save_results_from_file's parsing, line by line."""
    out = []
    for line in text.splitlines(keepends=True):
        step, acc_str, right, wrong = line.strip().split(",")
        out.append((int(step), float(acc_str.rstrip("%")) / 100, float(right), float(wrong)))
    return out


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three checkpoints whose <n> order (1, 2, 10) differs from their step order."""
    root = tmp_path_factory.mktemp("ref_summary")
    for name in ("ckpt_1_300_a", "ckpt_2_100_b", "ckpt_10_200_c"):
        (root / "run" / name).mkdir(parents=True)
        (root / "run" / name / "salt.txt").write_text(name)
    sweep(
        str(root / "run" / "ckpt_*"),
        root / "out",
        model="test_reference_summary:CoarseModel",
        tasks="sample_story_en,sample_cmmlu",
        conditions="t2t,s2t",
        limit=12,
        progress=False,
    )
    return root / "out"


CELLS = [(t, c) for t in ("sample_story_en", "sample_cmmlu") for c in ("t2t", "s2t")]


@pytest.mark.parametrize(("task", "condition"), CELLS)
def test_summary_is_byte_identical_to_the_reference(swept: Path, task: str, condition: str):
    written = (swept / "summaries" / f"{task}_{condition}" / "results_summary.txt").read_bytes()
    expected = reference_file(swept, task, condition).encode()
    assert written == expected
    assert [row[0] for row in reference_reader(written.decode())] == [100, 200, 300]
    assert b"#" not in written and written.count(b"%") == 3


def test_ties_and_float_sums_are_exercised(swept: Path) -> None:
    """The model's coarse losses do make ties, so the tie rules are really compared."""
    logged = swept / "ckpt_2_100_b" / "samples_sample_cmmlu_t2t.jsonl"
    rows = [json.loads(line) for line in logged.read_text().splitlines()]
    by_item: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_item[r["item_id"]].append(r["loss"])
    assert any(len(set(losses)) < len(losses) for losses in by_item.values())


def test_the_combined_summary_keeps_every_cell_under_its_header(swept: Path) -> None:
    combined = parse_summary((swept / "summary.txt").read_text())
    assert set(combined) == set(CELLS)
    for task, condition in CELLS:
        file = swept / "summaries" / f"{task}_{condition}" / "results_summary.txt"
        reference = reference_reader(file.read_text())
        assert [(s, a / 100, r, w) for s, a, r, w in combined[(task, condition)]] == reference


def test_the_line_format_is_the_reference_format() -> None:
    assert summary_line(Point(1500, 13 / 24, 2.345678, 2.9, 24)) == "1500,54.17%,2.3457,2.9000"
    assert summary_line(Point(0, 1.0, 0.00004, 10.0, 1)) == "0,100.00%,0.0000,10.0000"


def _records(rng: random.Random, n: int) -> list[ScoreRecord]:
    out = []
    for i in range(n):
        losses = [rng.uniform(0.5, 6.0) for _ in range(4)]
        scores = tuple(ContinuationScore(-loss, 1) for loss in losses)
        out.append(ScoreRecord("t", "t2t", str(i), rng.randrange(4), scores, (1,) * 4, (1,) * 4))
    return out


def test_choice_mean_losses_are_averaged_over_pairs_as_the_reference_does() -> None:
    """sCMMLU: the answer's loss enters once per (answer, distractor) pair, 3 times a question;
    in floats that is not always the per-question mean, and the summary must match the
    reference to the last digit."""
    differs = 0
    for seed in range(200):
        records = _records(random.Random(seed), 37)
        metrics = task_metrics(records, "choice")
        answers = [r.losses[r.gold] for r in records for i in range(4) if i != r.gold]
        others = [r.losses[i] for r in records for i in range(4) if i != r.gold]
        assert metrics.mean_right_loss == sum(answers) / len(answers)
        assert metrics.mean_wrong_loss == sum(others) / len(others)
        per_question = sum(r.losses[r.gold] for r in records) / len(records)
        differs += per_question != metrics.mean_right_loss
    assert differs > 0  # the two ways of averaging really differ in floats


def test_story_mean_losses_add_up_pair_by_pair() -> None:
    rng = random.Random(7)
    records = []
    for i in range(50):
        scores = tuple(ContinuationScore(-rng.uniform(1, 5), 1) for _ in range(2))
        records.append(ScoreRecord("t", "t2t", str(2 * i), 0, scores, (1, 1), (1, 1)))
    right = wrong = 0.0
    for record in records:
        right += record.losses[0]
        wrong += record.losses[1]
    metrics = task_metrics(records, "story")
    assert (metrics.mean_right_loss, metrics.mean_wrong_loss) == (right / 50, wrong / 50)
    assert not math.isnan(metrics.acc)
