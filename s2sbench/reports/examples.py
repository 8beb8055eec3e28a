"""Items where reading and hearing disagree: the examples a report shows.

For a task scored under T2T and S2T, an item *disagrees* when it is right
under one condition and wrong under the other (reference pairwise rule; for
choice tasks, a different number of right pairs). Items the model read right
but heard wrong come first: they are the intelligence lost to speech. The
context and continuations come from the task's source file when it is still
readable, otherwise from the logged prompts.

The texts are raw model input and raw ASR output: a misrecognition can put
any word, offensive ones included, into a transcript. So a report shows them
only when asked (``report --examples N``; the default shows counts only),
labels them as raw and unfiltered, and puts them only in preformatted blocks,
which the HTML renderer escapes and the Markdown renderer fences.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2sbench.metrics.accuracy import item_correct
from s2sbench.reports.report_doc import Block, Heading, Para, Pre, TableBlock
from s2sbench.reports.run_records import RunData, records_from_samples
from s2sbench.scores.store import ScoreRecord


@dataclass(frozen=True)
class Example:
    """One disagreeing item with both conditions' losses per continuation."""

    task: str
    item_id: str
    context: str
    continuations: list[str]
    gold: int
    losses_a: list[float]
    losses_b: list[float]
    score_a: float
    score_b: float
    transcript: str | None = None  # what a cascade's ASR heard, when it logged it


def _task_texts(run: RunData, task: str) -> dict[str, tuple[str, list[str]]]:
    """item id -> (context, continuations) read from the task's source, if available."""
    info = run.config.task(task)
    source = info.source
    if not source or not os.path.isfile(source):
        return {}
    from s2sbench.core.errors import S2SBenchError
    from s2sbench.data.reference import read_items

    try:
        items = read_items(info.kind or "story", Path(source), info.lang or "en")
    except (S2SBenchError, OSError, ValueError):
        return {}
    return {item.id: (item.context_text, list(item.continuations)) for item in items}


def _from_prompts(rows: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """Split logged prompts into a shared context and the continuations (best effort)."""
    prompts = [r["prompt"] for r in sorted(rows, key=lambda r: r["continuation_index"])]
    context = os.path.commonprefix(prompts)
    cut = context.rfind(" ") + 1 if len(prompts) > 1 and " " in context else len(context)
    return context[:cut], [p[cut:] for p in prompts]


def disagreements(
    run: RunData, task: str, cond_a: str = "t2t", cond_b: str = "s2t", limit: int = 3
) -> tuple[int, list[Example]] | None:
    """(number of disagreeing items, the first ``limit`` of them), or None without samples."""
    rows_a = run.sample_rows(task, cond_a)
    rows_b = run.sample_rows(task, cond_b)
    if rows_a is None or rows_b is None:
        return None
    kind = run.kind(task)
    recs_b = {r.item_id: r for r in records_from_samples(task, cond_b, rows_b)}
    found: list[tuple[ScoreRecord, ScoreRecord, float, float]] = []
    for rec_a in records_from_samples(task, cond_a, rows_a):
        rec_b = recs_b.get(rec_a.item_id)
        if rec_b is None:
            continue
        score_a = item_correct(rec_a.losses, rec_a.gold, kind)
        score_b = item_correct(rec_b.losses, rec_b.gold, kind)
        if score_a != score_b:
            found.append((rec_a, rec_b, score_a, score_b))
    found.sort(key=lambda f: f[3] - f[2])  # read right / heard wrong first
    texts = _task_texts(run, task) if found and limit > 0 else {}
    examples = []
    for rec_a, rec_b, score_a, score_b in found[:limit]:
        if rec_a.item_id in texts:
            context, conts = texts[rec_a.item_id]
        else:
            context, conts = _from_prompts(
                [r for r in rows_a if str(r["item_id"]) == rec_a.item_id]
            )
        heard = [
            r.get("extra", {}).get("transcript")
            for r in rows_b
            if str(r["item_id"]) == rec_a.item_id
        ]
        examples.append(
            Example(
                task,
                rec_a.item_id,
                context,
                conts,
                rec_a.gold,
                rec_a.losses,
                rec_b.losses,
                score_a,
                score_b,
                next((h for h in heard if h), None),
            )
        )
    return len(found), examples


RAW_TEXT_WARNING = (
    "Raw model input and ASR output, shown unfiltered: contexts and continuations are the "
    "task's text, and 'heard' lines are what the speech recogniser transcribed, verbatim. "
    "Recognition errors can produce offensive words; review before sharing this report."
)


def example_blocks(run: RunData, per_task: int) -> list[Block]:
    """Counts of disagreeing items per task; the items themselves only when ``per_task > 0``."""
    blocks: list[Block] = [Heading(3, "Where reading and hearing disagree")]
    warned = False
    for task, by_cond in run.results.results.items():
        if not {"t2t", "s2t"} <= set(by_cond):
            blocks.append(Para(f"{task}: not scored both read (T2T) and heard (S2T)."))
            continue
        found = disagreements(run, task, limit=per_task)
        if found is None:
            blocks.append(Para(f"{task}: no T2T and S2T sample logs (run with --log-samples)."))
            continue
        count, examples = found
        if per_task <= 0:
            blocks.append(Para(f"{task}: {count} items disagree."))
            continue
        blocks.append(Para(f"{task}: {count} items disagree; showing {len(examples)}."))
        if examples and not warned:
            blocks.append(Para(RAW_TEXT_WARNING))
            warned = True
        for ex in examples:
            verdict = (
                "read right, heard wrong" if ex.score_a > ex.score_b else "heard right, read wrong"
            )
            lines = [f"item {ex.item_id} ({verdict})", f"context: {ex.context}"]
            if ex.transcript:
                lines.append(f"heard (raw ASR transcript): {ex.transcript}")
            lines += [
                f"[{i}] {'right' if i == ex.gold else 'wrong'}: {text}"
                for i, text in enumerate(ex.continuations)
            ]
            blocks.append(Pre("\n".join(lines)))
            blocks.append(
                TableBlock(
                    ["continuation", "right/wrong", "T2T loss", "S2T loss"],
                    [
                        [f"[{i}]", "right" if i == ex.gold else "wrong", f"{la:.4f}", f"{lb:.4f}"]
                        for i, (la, lb) in enumerate(zip(ex.losses_a, ex.losses_b))
                    ],
                )
            )
    if per_task <= 0:
        blocks.append(
            Para(
                "The items themselves are not shown: they quote raw model input and ASR output, "
                "unfiltered. Add --examples N to show N per task."
            )
        )
    return blocks
