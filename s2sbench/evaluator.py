"""``evaluate``: the one way through the pipeline.

data -> tasks -> requests -> models -> scores -> metrics -> reports. Each stage
is a call into its package; this module only wires them together, streams
scores into the store as they arrive, and writes the results.
"""

from __future__ import annotations

import math
import platform
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from s2sbench import __version__
from s2sbench.errors import ModelError
from s2sbench.metrics.accuracy import task_metrics
from s2sbench.models.base import ContinuationScore, ScoringModel
from s2sbench.models.registry import get_model, parse_model_args
from s2sbench.reports.io import write_json, write_jsonl
from s2sbench.requests.build import AudioHasher, ContextRequest, build_requests
from s2sbench.requests.conditions import Condition, parse_conditions
from s2sbench.requests.prompts import PromptTemplate, get_template
from s2sbench.scores.store import ScoreRecord, ScoreStore, model_id
from s2sbench.tasks.item import Task
from s2sbench.tasks.registry import SAMPLE_SUITE, TaskSpec, resolve_tasks


@dataclass
class Cell:
    """One (task, condition): its requests and, once scored, their stored records."""

    task: Task
    condition: Condition
    requests: list[ContextRequest] = field(default_factory=list)
    records: list[ScoreRecord] = field(default_factory=list)


@dataclass
class EvalResult:
    """What ``evaluate`` returns: the results.json content plus the raw records."""

    results: dict[str, dict[str, dict[str, Any]]]
    degradation: dict[str, Any]
    skipped: list[dict[str, str]]
    config: dict[str, Any]
    cells: list[Cell]

    def to_json(self) -> dict[str, Any]:
        return {
            "results": self.results,
            "degradation": self.degradation,
            "skipped": self.skipped,
            "config": self.config,
        }

    def records(self, task: str, condition: str | Condition) -> list[ScoreRecord]:
        cond = Condition(str(condition))
        for cell in self.cells:
            if cell.task.name == task and cell.condition == cond:
                return cell.records
        raise KeyError(f"no results for {task}/{cond}")


def _git_hash() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _versions() -> dict[str, str]:
    import sys

    versions = {"s2sbench": __version__, "python": platform.python_version()}
    for name in ("torch", "transformers", "pocketsphinx", "numpy"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = str(getattr(module, "__version__", "?"))
    return versions


def _check_scores(request: ContextRequest, scores: list[ContinuationScore]) -> None:
    """Refuse numbers that would silently poison a metric."""
    if len(scores) != len(request.continuations):
        raise ModelError(
            f"model returned {len(scores)} scores for {len(request.continuations)} continuations",
            where=f"task {request.task}, item {request.item_id}",
        )
    for index, score in enumerate(scores):
        if score.n_tokens <= 0:
            raise ModelError(
                f"continuation {index} has no tokens to score",
                where=f"task {request.task}, item {request.item_id}",
                hint="the tokenizer merged it into the context or it is empty; fix the data",
            )
        if not math.isfinite(score.logprob_sum):
            raise ModelError(
                f"model returned a non-finite log-prob ({score.logprob_sum}) for continuation "
                f"{index}",
                where=f"task {request.task}, item {request.item_id}",
                hint="check the model's weights and dtype (try dtype=float32)",
            )


def _with_sample_audio(
    tasks: list[Task],
    specs: list[TaskSpec],
    conditions: list[Condition],
    model: ScoringModel,
    limit: int | float | None,
) -> list[Task]:
    """Render the built-in tasks' spoken contexts when a speech condition will use them."""
    out = []
    for task, spec in zip(tasks, specs):
        needs_audio = any(
            c.context_is_speech and model.unsupported_reason(c, spec.lang) is None
            for c in conditions
        )
        if spec.builtin and needs_audio:
            from s2sbench.tasks.sample_audio import ensure_sample_audio

            task = ensure_sample_audio(spec).load().limited(limit)
        out.append(task)
    return out


def _score_pending(
    results: Iterator[tuple[int, list[ContinuationScore]]],
    store: ScoreStore,
    mid: str,
    pending: Sequence[ContextRequest],
    progress: bool,
) -> None:
    """Check and store each result as it arrives: a kill loses at most the batch in flight."""
    bar = tqdm(total=len(pending), desc="scoring", unit="ctx", disable=not progress or None)
    try:
        for index, scores in results:
            request = pending[index]
            _check_scores(request, scores)
            store.put(mid, request, scores)
            bar.update(1)
    finally:
        bar.close()


def evaluate(
    model: str | ScoringModel = "sphinx",
    model_args: str | dict[str, Any] | None = None,
    tasks: Sequence[str] | str = SAMPLE_SUITE,
    conditions: Sequence[str | Condition] | str = ("t2t", "s2t"),
    *,
    data_dir: str | Path | None = None,
    batch_size: int | str | None = None,
    device: str | None = None,
    output_path: str | Path | None = None,
    limit: int | float | None = None,
    log_samples: bool = False,
    template: str | PromptTemplate = "reference",
    seed: int = 1234,
    progress: bool = True,
    long_audio: str = "error",
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    executor: str = "local",
    executor_args: dict[str, Any] | None = None,
) -> EvalResult:
    """Score ``tasks`` x ``conditions`` with ``model`` and return the typed result.

    With ``output_path`` the raw scores are appended to
    ``output_path/scores.jsonl`` as they are computed, so rerunning the same
    call skips finished work; ``results.json`` (and, with ``log_samples``,
    ``samples_<task>_<condition>.jsonl``) are written atomically at the end.
    """
    conds = parse_conditions(list(conditions) if not isinstance(conditions, str) else conditions)
    specs = resolve_tasks(
        list(tasks) if not isinstance(tasks, str) else tasks, Path(data_dir) if data_dir else None
    )
    prompt = get_template(template)
    task_list = [spec.load().limited(limit) for spec in specs]  # validate data before a model
    runtime = {
        "batch_size": batch_size,
        "device": device,
        "long_audio": long_audio,
        "trust_remote_code": trust_remote_code or None,
        "allow_pickle": allow_pickle or None,
    }
    scorer = get_model(model, model_args, **runtime)
    task_list = _with_sample_audio(task_list, specs, conds, scorer, limit)
    mid = model_id(scorer.fingerprint())
    hasher = AudioHasher()

    cells: list[Cell] = []
    skipped: list[dict[str, str]] = []
    for task in task_list:
        for cond in conds:
            reason = scorer.unsupported_reason(cond, task.lang)
            if reason:
                skipped.append({"task": task.name, "condition": cond.value, "reason": reason})
                continue
            cells.append(Cell(task, cond, build_requests(task, cond, prompt, hasher)))

    started = time.time()
    with ScoreStore(Path(output_path) if output_path else None) as store:
        pending = [r for c in cells for r in c.requests if store.get(mid, r.key) is None]
        if pending:
            if executor == "local":
                stream = scorer.score(pending)
            else:
                from s2sbench.executors import remote_scores

                stream = remote_scores(executor, model, model_args, runtime, pending, executor_args)
            _score_pending(stream, store, mid, pending, progress)
        for cell in cells:
            cell.records = [store.get(mid, r.key) for r in cell.requests]  # type: ignore[misc]

    results: dict[str, dict[str, dict[str, Any]]] = {}
    for cell in cells:
        metrics = task_metrics(cell.records, cell.task.kind).to_dict()
        results.setdefault(cell.task.name, {})[cell.condition.value] = metrics

    from s2sbench.metrics.degradation import degradation_report

    degradation = degradation_report(cells, seed=seed)
    config = {
        "model": model if isinstance(model, str) else getattr(model, "name", "custom"),
        "model_args": parse_model_args(model_args),
        "model_fingerprint": scorer.fingerprint(),
        "model_id": mid,
        "tasks": {
            t.name: {
                "version": t.version,
                "source": t.source,
                "kind": t.kind,
                "lang": t.lang,
                "n_items": len(t),
            }
            for t in task_list
        },
        "conditions": [c.value for c in conds],
        "template": prompt.to_dict(),
        "limit": limit,
        "batch_size": batch_size,
        "long_audio": long_audio,
        "executor": executor,
        "seed": seed,
        "versions": _versions(),
        "git_hash": _git_hash(),
        "scored_now": len(pending),
        "reused_from_store": sum(len(c.requests) for c in cells) - len(pending),
        "seconds": round(time.time() - started, 3),
    }
    result = EvalResult(results, degradation, skipped, config, cells)
    if output_path:
        out = Path(output_path)
        write_json(out / "results.json", result.to_json())
        if log_samples:
            for cell in cells:
                write_jsonl(
                    out / f"samples_{cell.task.name}_{cell.condition.value}.jsonl",
                    sample_rows(cell),
                )
    return result


def sample_rows(cell: Cell) -> list[dict[str, Any]]:
    """One row per scored continuation, as written to ``samples_<task>_<condition>.jsonl``."""
    rows = []
    for request, record in zip(cell.requests, cell.records):
        for index, score in enumerate(record.scores):
            rows.append(
                {
                    "item_id": request.item_id,
                    "continuation_index": index,
                    "is_right": index == request.gold,
                    "logprob_sum": score.logprob_sum,
                    "n_tokens": score.n_tokens,
                    "loss": score.loss,
                    "n_chars": record.n_chars[index],
                    "n_bytes": record.n_bytes[index],
                    "prompt": request.render(index),
                    **({"extra": dict(score.extra)} if score.extra else {}),
                }
            )
    return rows
