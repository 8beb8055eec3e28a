"""Planning an evaluation: from a checked ``RunConfig`` to the requests still to score.

Data is read and checked before a model loads; then the model is built, the
requests of every supported task x condition are made, the score store is
opened, and what it already holds is left out. ``s2sbench.evaluator`` turns the
plan into an ``Evaluation`` that scores, stores and writes the results.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from s2sbench.core.cell import Cell
from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ModelError
from s2sbench.core.item import Task
from s2sbench.core.progress import Progress
from s2sbench.core.run_config import RunConfig
from s2sbench.core.run_options import limited_task
from s2sbench.core.scoring import ContinuationScore, ScoringModel
from s2sbench.data.task_spec import TaskSpec
from s2sbench.models.default_model import resolve_model
from s2sbench.models.registry import get_model
from s2sbench.reports import run_files
from s2sbench.requests.build import AudioHasher, build_requests, check_context_audio
from s2sbench.requests.prompts import PromptTemplate, get_template
from s2sbench.scores.store import ScoreStore, model_id
from s2sbench.tasks.registry import resolve_tasks

T = TypeVar("T")


def check_scores(request: ContextRequest, scores: list[ContinuationScore]) -> None:
    """Refuse numbers that would silently poison a metric."""
    if len(scores) != len(request.continuations):
        raise ModelError(
            f"model returned {len(scores)} scores for {len(request.continuations)} continuations",
            where=f"task {request.task}, item {request.item_id}",
            hint="an adapter's score() must return one score per continuation",
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


def store_as_scored(
    results: Iterable[T], put: Callable[[T], None], total: int, progress: bool
) -> None:
    """Store each result as it arrives, under one progress bar: a kill loses at most the batch
    in flight. ``evaluate`` and the Ray sweep (several evaluations, one pool) both use it."""
    with Progress("scoring", total, "ctx", enabled=progress) as bar:
        for result in results:
            put(result)
            bar.update(1)


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


@dataclass
class RunPlan:
    """An evaluation planned: model built, requests made, store open, work left known.

    ``config`` is the run's configuration with the model resolved (``model=None``
    becomes the bundled cascade and its arguments).
    """

    config: RunConfig
    scorer: ScoringModel
    mid: str
    tasks: list[Task]
    conditions: list[Condition]
    prompt: PromptTemplate
    cells: list[Cell]
    skipped: list[dict[str, str]]
    store: ScoreStore
    pending: list[ContextRequest]
    wall_start: float | None = None  # when planning began (before the model loaded)
    started: float = field(default_factory=time.time)


def plan_run(config: RunConfig) -> RunPlan:
    """Validate the data, build the model and the requests, open the store, find what is left.

    ``config.use_cache``: a score store shared across runs (lm-eval's ``--use_cache``):
    scores of the same requests to the same model are read from it instead of
    computed, and new ones are added. It is content-keyed like any store, so it never
    returns a score for other weights, settings, text or audio.
    """
    wall_start = time.time()
    model, model_args = resolve_model(config.model, config.model_args_dict_or_text())
    config = config.replace(model=model, model_args=model_args)
    conds = list(config.conditions)
    specs = resolve_tasks(list(config.tasks), Path(config.data_dir) if config.data_dir else None)
    prompt = get_template(config.template)  # type: ignore[arg-type]
    task_list = [limited_task(spec.load(), config.limit) for spec in specs]  # data before a model
    hasher = AudioHasher()
    check_context_audio(task_list, conds, hasher)  # both rows' wavs, before a model loads
    scorer = get_model(model, config.model_args_dict_or_text(), **config.runtime())
    task_list = _with_sample_audio(task_list, specs, conds, scorer, config.limit)
    mid = model_id(scorer.fingerprint())

    cells: list[Cell] = []
    skipped: list[dict[str, str]] = []
    for task in task_list:
        for cond in conds:
            reason = scorer.unsupported_reason(cond, task.lang)
            if reason:
                skipped.append({"task": task.name, "condition": cond.value, "reason": reason})
                continue
            cells.append(Cell(task, cond, build_requests(task, cond, prompt, hasher)))
    run_files.check_before_run(config.output_path, cells, skipped, config.log_samples)

    store_dir = config.output_path or config.use_cache
    store = ScoreStore(Path(store_dir) if store_dir else None)
    pending = [r for c in cells for r in c.requests if store.get(mid, r.key) is None]
    return RunPlan(
        config=config,
        scorer=scorer,
        mid=mid,
        tasks=task_list,
        conditions=conds,
        prompt=prompt,
        cells=cells,
        skipped=skipped,
        store=store,
        pending=pending,
        wall_start=wall_start,
    )
