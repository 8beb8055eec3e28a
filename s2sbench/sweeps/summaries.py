"""Writing a sweep's summaries: the reference ``results_summary.txt`` files and a combined one.

The reference eval code writes one ``results_summary.txt`` per dataset
directory, one line ``f"{step},{acc:.2%},{right:.4f},{wrong:.4f}"`` per
checkpoint in step order, no header, and its plot reader parses each line
with ``split(',')`` and ``acc_str.rstrip('%')``. A sweep writes that file
per task and condition, at ``OUT/summaries/<task>_<condition>/results_summary.txt``
(the reference's dataset names also pair a set with its condition, e.g.
``sStory_s2t``), plus ``OUT/summary.txt``: every task and condition in one
file, each block under a ``# task=... condition=...`` header, for people.
Both are rebuilt from the ``results.json`` of every finished checkpoint as
they are on disk now.
"""

from __future__ import annotations

from pathlib import Path

from s2sbench.core.atomic_write import write_atomic
from s2sbench.core.output_files import output_file
from s2sbench.reports.sweep_series import (
    COMBINED_SUMMARY_NAME,
    SUMMARIES_DIR,
    SUMMARY_NAME,
    Sweep,
    reference_summary_text,
    summary_text,
)


def reference_summary_path(root: Path, task: str, condition: str) -> Path:
    """Where the reference ``results_summary.txt`` of ``task`` under ``condition`` goes."""
    return output_file(root, SUMMARIES_DIR, f"{task}_{condition}", SUMMARY_NAME)


def write_summaries(root: Path, sweep: Sweep) -> list[Path]:
    """Rewrite the combined summary and every reference summary; returns the reference files."""
    cells = {cell: sweep.series(*cell) for cell in sweep.cells()}
    write_atomic(output_file(root, COMBINED_SUMMARY_NAME), summary_text(cells))
    written = []
    for (task, condition), points in cells.items():
        path = reference_summary_path(root, task, condition)
        write_atomic(path, reference_summary_text(points))
        written.append(path)
    return written
