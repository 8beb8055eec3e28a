"""The report's statistics sections: degradation, per checkpoint, per subject, comparison.

Every difference is labelled with its direction (read minus heard; run minus
baseline) in the header of the column that holds it, and every table that
shows both a paired bootstrap CI and a McNemar p says once what each answers,
and marks the rows where they disagree about 5% significance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from s2sbench.reports.compare import COMPARISON_HEADER, comparison_rows, comparison_title
from s2sbench.reports.degradation_table import (
    CONTEXT_SHARE_HEADER,
    context_share_rows,
    undefined_share_notes,
)
from s2sbench.reports.report_doc import Block, Heading, Para, TableBlock
from s2sbench.reports.result_degradation import McNemarResult, PairDegradation
from s2sbench.reports.result_fields import as_float
from s2sbench.reports.run_records import RunData

TESTS_EXPLAINED = (
    "How to read the two tests: the 95% paired bootstrap CI answers how large the accuracy "
    "difference is and how uncertain that size is (it resamples whole items), while the exact "
    "McNemar p answers whether there is any difference at all, using only the items (pairs, "
    "for choice tasks) that flip between the two sides, so near the 5% line they can disagree, "
    "e.g. a CI that just excludes 0 with p = 0.07; such rows are marked \u2020 and are "
    "borderline evidence."
)
DISAGREE_MARK = " \u2020"


def pct(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}"


def ci_text(low: float | None, high: float | None) -> str:
    return f"[{100 * as_float(low):+.1f}, {100 * as_float(high):+.1f}]"


def ci_and_p_disagree(ci_low: float, ci_high: float, p_value: float, alpha: float = 0.05) -> bool:
    """True when one test calls the difference significant at ``alpha`` and the other does not."""
    return (ci_low > 0 or ci_high < 0) != (p_value < alpha)


def p_text(
    p_value: float | None, ci_low: float | None, ci_high: float | None, unit: str | None = None
) -> str:
    """McNemar p, its unit (item or pair), and the mark when the CI disagrees with it."""
    p, low, high = as_float(p_value), as_float(ci_low), as_float(ci_high)
    text = f"{p:.3g}"
    if unit:
        text += f" ({unit})"
    if ci_and_p_disagree(low, high, p):
        text += DISAGREE_MARK
    return text


def degradation_blocks(run: RunData) -> list[Block]:
    rows, subject_rows = [], []
    for task, pairs in run.results.degradation.items():
        for pair, d in pairs.items():
            if not d.n_items:
                continue
            mcnemar = d.mcnemar or McNemarResult(None, None, None)
            rows.append(
                [
                    task,
                    pair,
                    str(d.n_items),
                    pct(d.acc_first),
                    pct(d.acc_second),
                    f"{100 * as_float(d.gap):+.1f}",
                    ci_text(d.ci_low, d.ci_high),
                    p_text(mcnemar.p_value, d.ci_low, d.ci_high, mcnemar.unit),
                ]
            )
            for subject, s in (d.by_subject or {}).items():
                subject_rows.append(
                    [
                        task,
                        pair,
                        subject,
                        str(s.n_items),
                        pct(s.acc_first),
                        pct(s.acc_second),
                        f"{100 * as_float(s.gap):+.1f}",
                    ]
                )
    blocks: list[Block] = [Heading(3, "Intelligence degradation")]
    if rows:
        blocks += [
            Para(
                "Gap = read minus heard accuracy in points (positive: hearing loses accuracy); "
                "95% paired bootstrap CI over items; exact McNemar test on the reference pairs."
            ),
            TableBlock(
                [
                    "task",
                    "pair",
                    "n",
                    "acc read %",
                    "acc heard %",
                    "gap (read - heard) pts",
                    "95% CI of gap",
                    "McNemar p (unit)",
                ],
                rows,
            ),
            Para(TESTS_EXPLAINED),
        ]
    else:
        blocks.append(Para("No task was scored both read and heard."))
    blocks += context_share_blocks(run.results.degradation)
    blocks.append(Heading(3, "Per subject"))
    blocks.append(
        TableBlock(
            [
                "task",
                "pair",
                "subject",
                "n",
                "acc read %",
                "acc heard %",
                "gap (read - heard) pts",
            ],
            subject_rows,
        )
        if subject_rows
        else Para("No task carries subjects.")
    )
    return blocks


SHARE_EXPLAINED = (
    "The context-free baseline (condition none) reads each continuation alone, from BOS. "
    "Gain = read minus no-context accuracy: what the context adds at all. Share = "
    "(read - heard) / (read - none): the fraction of that gain lost by hearing the context "
    "(0: hearing keeps all of it; 100: hearing is worth no more than no context). Its 95% CI "
    "is a paired bootstrap over items. It is undefined unless the gain's 95% CI lies above 0 "
    "and the gain is at least 1 point."
)


def context_share_blocks(degradation: Mapping[str, Mapping[str, PairDegradation]]) -> list[Block]:
    """The context-driven share of the degradation, for tasks also scored without context."""
    rows = context_share_rows(degradation)
    if not rows:
        return []
    return [
        Heading(3, "Context-driven share of the degradation"),
        Para(SHARE_EXPLAINED),
        TableBlock(list(CONTEXT_SHARE_HEADER), rows),
        *(Para(note + ".") for note in undefined_share_notes(degradation)),
    ]


def per_checkpoint_blocks(run: RunData) -> list[Block]:
    """A sweep's degradation at every finished checkpoint, not only the last."""
    sweep = run.sweep
    if sweep is None:
        return []
    rows = []
    for task in run.results.results:
        for pair in sweep.pairs(task):
            for p in sweep.gap_series(task, pair):
                rows.append(
                    [
                        task,
                        pair,
                        str(p.step),
                        str(p.n),
                        pct(p.acc_first),
                        pct(p.acc_second),
                        f"{100 * p.gap:+.1f}",
                        ci_text(p.ci_low, p.ci_high),
                        p_text(p.p_value, p.ci_low, p.ci_high),
                    ]
                )
    blocks: list[Block] = [Heading(3, "Per checkpoint")]
    if not rows:
        return blocks + [Para("No checkpoint was scored both read and heard.")]
    return blocks + [
        Para(
            "Every finished checkpoint, in step order (the tables above are the last one's). "
            "Gap = read minus heard accuracy in points, with its 95% paired bootstrap CI."
        ),
        TableBlock(
            [
                "task",
                "pair",
                "step",
                "n",
                "acc read %",
                "acc heard %",
                "gap (read - heard) pts",
                "95% CI of gap",
                "McNemar p",
            ],
            rows,
        ),
    ]


def comparison_blocks(report: dict[str, Any]) -> list[Block]:
    rows = comparison_rows(report)
    p_col = COMPARISON_HEADER.index("McNemar p")
    by_key = {
        (c["run"], task, cond): d
        for c in report["comparisons"]
        for task, by_cond in c["tasks"].items()
        for cond, d in by_cond.items()
    }
    for row in rows:
        d = by_key[(row[1], row[2], row[3])]
        if ci_and_p_disagree(d["ci_low"], d["ci_high"], d["mcnemar"]["p_value"]):
            row[p_col] += DISAGREE_MARK
    return [
        Heading(2, f"Comparison: each run minus the baseline {report['baseline']}"),
        Para(
            f"{comparison_title(report)[0].upper()}{comparison_title(report)[1:]}; sweeps stand "
            "for their last checkpoint. 95% paired bootstrap CI over items, exact McNemar p."
        ),
        TableBlock(COMPARISON_HEADER, rows),
        Para(TESTS_EXPLAINED),
    ]
