"""The summary tables printed at the end of a run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from s2sbench.reports.result_metrics import CellMetrics
from s2sbench.reports.results import RunResults


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if pct:
        return f"{100 * value:.1f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _asr(metrics: CellMetrics) -> str:
    """The cascade's error rate (WER for English, CER for Chinese) and its empty transcripts."""
    rate = metrics.asr_error_rate
    if rate is None:
        return "-"
    unit = "CER" if metrics.asr_unit == "char" else "WER"
    empty = metrics.empty_transcripts or 0
    return f"{unit} {100 * rate:.1f}" + (f", {empty} empty" if empty else "")


def results_table(results: Mapping[str, Mapping[str, CellMetrics]]) -> Table:
    table = Table(title="s2sbench results", title_justify="left")
    for col in (
        "task",
        "condition",
        "n",
        "acc %",
        "mean right loss",
        "mean wrong loss",
        "argmax %",
        "ASR err %",
    ):
        table.add_column(col, justify="left" if col in ("task", "condition") else "right")
    for task, by_cond in results.items():
        for cond, m in by_cond.items():
            table.add_row(
                task,
                cond,
                _fmt(m.n),
                _fmt(m.acc, True),
                _fmt(m.mean_right_loss),
                _fmt(m.mean_wrong_loss),
                _fmt(m.acc_argmax, True),
                _asr(m),
            )
    return table


def asr_summary_line(config: Mapping[str, Any]) -> str | None:
    """What a cascade's ASR did this run (files, audio, cache hits, time), or None."""
    asr = (config.get("model_runtime") or {}).get("asr") or {}
    if not asr.get("files_transcribed"):
        return None
    cached = asr.get("read_from_transcript_cache")
    from_cache = f" ({cached} read from the transcript cache)" if cached else ""
    return (
        f"ASR: {asr['files_transcribed']} files, {asr['audio_seconds']:.0f} s of audio"
        f"{from_cache} transcribed in {asr['wall_seconds']:.1f} s"
    )


def print_summary(data: RunResults, console: Console | None = None) -> None:
    """Results table, degradation table (when present) and the skipped cells."""
    console = console or Console(width=max(Console().width, 120))
    console.print(results_table(data.results))
    degradation = data.degradation
    if degradation:
        from s2sbench.reports.degradation_table import (
            context_share_table,
            degradation_table,
            undefined_share_notes,
        )

        console.print(degradation_table(degradation))
        share = context_share_table(degradation)
        if share is not None:
            console.print(share)
        for note in undefined_share_notes(degradation):
            console.print(note, highlight=False)
    grouped: dict[tuple[str, str], list[str]] = {}
    for skip in data.skipped:
        grouped.setdefault((skip.task, skip.reason), []).append(skip.condition)
    for (task, reason), conditions in grouped.items():
        console.print(f"[yellow]skipped[/] {task} ({', '.join(conditions)}): {reason}")
