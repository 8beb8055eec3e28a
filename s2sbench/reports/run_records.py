"""Reading a result directory back: its config, metrics and per-item score records.

A *run* directory holds ``results.json`` (from ``s2sbench run`` or one
checkpoint of a sweep); a *sweep* directory holds ``sweep.json`` and stands
for its last finished checkpoint here. Per-item records come from the
``samples_<task>_<condition>.jsonl`` logs (exactly the records the metrics
were computed from); without them, from ``scores.jsonl`` rows of the run's
model id, refusing when one item has several records there (a changed
template or task version), since picking one would be a guess.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2sbench.core.errors import ConfigError, StoreError
from s2sbench.core.scoring import ContinuationScore
from s2sbench.reports.results import RecordedConfig, RunResults
from s2sbench.reports.run_files import RESULTS_NAME, load_results_file
from s2sbench.reports.sweep_series import Sweep, is_sweep_dir, load_sweep
from s2sbench.scores.item_records import merge_parts
from s2sbench.scores.store import STORE_NAME, ScoreRecord
from s2sbench.scores.store_reader import read_store


@dataclass
class RunData:
    """One evaluated run: where, its results.json content, and (lazily) per-item rows."""

    path: Path
    results: RunResults
    sweep: Sweep | None = None
    _samples: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def config(self) -> RecordedConfig:
        return self.results.config

    def kind(self, task: str) -> str:
        return self.config.task(task).kind or "story"

    def cells(self) -> list[tuple[str, str]]:
        return self.results.cell_names()

    def sample_rows(self, task: str, condition: str) -> list[dict[str, Any]] | None:
        """Rows of ``samples_<task>_<condition>.jsonl``, or None when not logged."""
        key = (task, condition)
        if key not in self._samples:
            path = self.path / f"samples_{task}_{condition}.jsonl"
            if not path.is_file():
                return None
            self._samples[key] = [
                json.loads(line)
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()
            ]
        return self._samples[key]

    def records(self, task: str, condition: str) -> list[ScoreRecord]:
        rows = self.sample_rows(task, condition)
        if rows is not None:
            return records_from_samples(task, condition, rows)
        return self._records_from_store(task, condition)

    def _records_from_store(self, task: str, condition: str) -> list[ScoreRecord]:
        path = self.path / STORE_NAME
        if not path.is_file():
            raise ConfigError(f"{self.path} has neither samples nor {STORE_NAME} for {task}")
        mid = self.config.model_id
        found: dict[str, list[ScoreRecord]] = {}
        for stored in read_store(path):  # checksummed; a torn last line is left out
            record = stored.record
            if stored.model != mid or (record.task, record.condition) != (task, condition):
                continue
            parts = found.setdefault(record.item_id, [])
            if parts and (record.part is None or any(p.part is None for p in parts)):
                raise ConfigError(
                    f"{path} holds several records of item {record.item_id} ({task}/{condition})",
                    hint="rerun 's2sbench run' with --log-samples so the exact records are logged",
                )
            parts.append(record)  # parts of an item heard after two different context files
        try:
            return [merge_parts(parts) for parts in found.values()]
        except StoreError as exc:
            raise ConfigError(
                f"{path}: {exc.what}",
                hint="rerun 's2sbench run' with --log-samples so the exact records are logged",
            ) from None


def records_from_samples(
    task: str, condition: str, rows: list[dict[str, Any]]
) -> list[ScoreRecord]:
    """Rebuild the per-item records from sample rows (one row per continuation)."""
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_item[str(row["item_id"])].append(row)
    records = []
    for item_id, item_rows in by_item.items():
        item_rows.sort(key=lambda r: r["continuation_index"])
        gold = next((r["continuation_index"] for r in item_rows if r["is_right"]), 0)
        records.append(
            ScoreRecord(
                task=task,
                condition=condition,
                item_id=item_id,
                gold=int(gold),
                scores=tuple(
                    ContinuationScore(
                        float(r["logprob_sum"]), int(r["n_tokens"]), r.get("extra", {})
                    )
                    for r in item_rows
                ),
                n_chars=tuple(int(r.get("n_chars", 0)) for r in item_rows),
                n_bytes=tuple(int(r.get("n_bytes", 0)) for r in item_rows),
            )
        )
    return records


def load_run(path: str | Path) -> RunData:
    """A run directory, or a sweep directory standing for its last finished checkpoint."""
    path = Path(path)
    if is_sweep_dir(path):
        sweep = load_sweep(path)
        last = sweep.last()
        if last is None:
            raise ConfigError(f"sweep {path} has no finished checkpoint yet")
        entry, results = last
        return RunData(path / entry["name"], results, sweep)
    found = load_results_file(path / RESULTS_NAME)  # its shape checked: one clear error
    if found is None:
        raise ConfigError(
            f"{path} holds neither results.json nor sweep.json",
            hint="give the --output-path of 's2sbench run' or 's2sbench sweep'",
        )
    return RunData(path, found)
