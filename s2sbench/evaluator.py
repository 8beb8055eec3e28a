"""``evaluate``: the one way through the pipeline.

data -> tasks -> requests -> models -> scores -> metrics -> reports. Each stage
is a call into its package; this module only wires them together, streams
scores into the store as they arrive, and writes the results.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from s2sbench.core.cell import Cell
from s2sbench.core.conditions import Condition, parse_conditions
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ConfigError, ModelError
from s2sbench.core.item import Task
from s2sbench.core.progress import Progress, show_progress
from s2sbench.core.provenance import git_hash, versions, wall_clock
from s2sbench.core.run_options import (
    check_gate,
    check_limit,
    check_seed,
    check_task_names,
    limited_task,
)
from s2sbench.core.scoring import ContinuationScore, ScoringModel
from s2sbench.core.strict_json import json_safe
from s2sbench.data.task_spec import TaskSpec
from s2sbench.metrics.accuracy import task_metrics
from s2sbench.metrics.wer import transcript_error
from s2sbench.models.default_model import resolve_model
from s2sbench.models.registry import get_model, parse_model_args
from s2sbench.models.text_encoding import check_long_context
from s2sbench.reports import run_files
from s2sbench.reports.result_degradation import parse_degradation
from s2sbench.reports.result_metrics import SkippedCell, parse_metrics
from s2sbench.reports.results import EvalResult, RunConfig, sample_rows
from s2sbench.requests.build import AudioHasher, build_requests, check_context_audio
from s2sbench.requests.prompts import PromptTemplate, get_template
from s2sbench.scores.item_records import item_records
from s2sbench.scores.store import ScoreStore, model_id
from s2sbench.tasks.registry import SAMPLE_SUITE, resolve_tasks

T = TypeVar("T")

__all__ = [
    "Cell",
    "EvalResult",
    "Evaluation",
    "evaluate",
    "prepare_evaluation",
    "sample_rows",
    "store_as_scored",
]


def _check_scores(request: ContextRequest, scores: list[ContinuationScore]) -> None:
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


def truncated_contexts(records: Iterable[Any]) -> int:
    """How many contexts of a cell were cut to fit the model's window (``--long-context
    truncate``): adapters mark them with ``extra["truncated_context_tokens"]``."""
    return sum(1 for r in records if any(s.extra.get("truncated_context_tokens") for s in r.scores))


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


def store_as_scored(
    results: Iterable[T], put: Callable[[T], None], total: int, progress: bool
) -> None:
    """Store each result as it arrives, under one progress bar: a kill loses at most the batch
    in flight. ``evaluate`` and the Ray sweep (several evaluations, one pool) both use it."""
    with Progress("scoring", total, "ctx", enabled=progress) as bar:
        for result in results:
            put(result)
            bar.update(1)


@dataclass
class Evaluation:
    """One evaluation between planning and results: requests built, store open, work known.

    ``evaluate`` is ``prepare_evaluation`` + scoring ``pending`` + ``finish``;
    a sweep on Ray prepares many of these and feeds them from one actor pool.
    """

    model: str | ScoringModel
    model_args: str | dict[str, Any] | None
    runtime: dict[str, Any]
    scorer: ScoringModel
    mid: str
    tasks: list[Task]
    conditions: list[Condition]
    prompt: PromptTemplate
    cells: list[Cell]
    skipped: list[dict[str, str]]
    store: ScoreStore
    pending: list[ContextRequest]
    output_path: Path | None
    log_samples: bool
    settings: dict[str, Any]
    started: float = field(default_factory=time.time)
    wall_start: float | None = None  # when prepare_evaluation began (before the model loaded)

    def put(self, index: int, scores: list[ContinuationScore]) -> None:
        """Check and append the scores of ``pending[index]``."""
        request = self.pending[index]
        _check_scores(request, scores)
        self.store.put(self.mid, request, scores)

    def stream(
        self, executor: str = "local", executor_args: dict[str, Any] | None = None
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        """Scores of ``pending`` from this process's model or from an executor's pool."""
        if executor == "local":
            return self.scorer.score(self.pending)
        from s2sbench.executors import remote_scores

        return remote_scores(
            executor, self.model, self.model_args, self.runtime, self.pending, executor_args
        )

    def finish(self) -> EvalResult:
        """Metrics from the stored records; results.json and samples written atomically."""
        lookup = partial(self.store.get, self.mid)
        for cell in self.cells:
            missing = sum(1 for r in cell.requests if lookup(r.key) is None)
            if missing:
                raise ModelError(
                    f"{missing} requests of {cell.task.name}/{cell.condition} were never scored",
                    hint="rerun with the same --output-path to finish them",
                )
            cell.records = item_records(cell.requests, lookup)  # type: ignore[assignment]
        results: dict[str, dict[str, dict[str, Any]]] = {}
        for cell in self.cells:
            metrics: dict[str, Any] = task_metrics(cell.records, cell.task.kind).to_dict()
            if cell.condition.context_is_speech:
                texts = {item.id: item.context_text for item in cell.task.items}
                asr = transcript_error(texts, cell.records, cell.task.lang)
                if asr is not None:
                    metrics.update(
                        asr_error_rate=asr.wer, asr_unit=asr.unit, empty_transcripts=asr.empty
                    )
            if self.settings.get("long_context") == "truncate":
                metrics["truncated_contexts"] = truncated_contexts(cell.records)
            results.setdefault(cell.task.name, {})[cell.condition.value] = metrics

        from s2sbench.metrics.degradation import degradation_report

        degradation = degradation_report(self.cells, seed=self.settings["seed"])
        model = self.model
        config = {
            "model": model if isinstance(model, str) else getattr(model, "name", "custom"),
            "model_args": parse_model_args(self.model_args),
            "model_fingerprint": self.scorer.fingerprint(),
            "model_id": self.mid,
            "tasks": {
                t.name: {
                    "version": t.version,
                    "source": t.source,
                    "kind": t.kind,
                    "lang": t.lang,
                    "n_items": len(t),
                }
                for t in self.tasks
            },
            "conditions": [c.value for c in self.conditions],
            "template": self.prompt.to_dict(),
            **self.settings,
            "versions": versions(),
            "git_hash": git_hash(),
            "scored_now": len(self.pending),
            "reused_from_store": sum(len(c.requests) for c in self.cells) - len(self.pending),
            "seconds": round(time.time() - self.started, 3),
            **wall_clock(self.wall_start or self.started),
        }
        runtime = getattr(self.scorer, "runtime_stats", None)
        if callable(runtime):  # e.g. a cascade's ASR seconds per audio second (this process)
            config["model_runtime"] = json_safe(runtime())
        # An undefined statistic is None (null in JSON), never NaN or Infinity.
        result = EvalResult(
            parse_metrics(json_safe(results)),
            parse_degradation(json_safe(degradation)),
            tuple(SkippedCell.from_json(s) for s in self.skipped),
            RunConfig(config),
            cells=self.cells,
        )
        if self.output_path is not None:
            run_files.write_results(self.output_path, result, self.log_samples)
        return result

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Evaluation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prepare_evaluation(
    model: str | ScoringModel | None = None,
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
    long_audio: str = "error",
    long_context: str = "error",
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    allow_weight_mismatch: bool = False,
    executor: str = "local",
    use_cache: str | Path | None = None,
) -> Evaluation:
    """Validate the data, build the model and the requests, open the store, find what is left.

    ``use_cache``: a score store shared across runs (lm-eval's ``--use_cache``): scores of
    the same requests to the same model are read from it instead of computed, and new ones
    are added. It is content-keyed like any store, so it never returns a score for other
    weights, settings, text or audio. With ``output_path`` that folder's store plays this
    part, so the two cannot be combined.
    """
    wall_start = time.time()
    if output_path and use_cache:  # before any data or model work
        raise ConfigError(
            "--use-cache and --output-path both name a score store",
            hint="drop --use-cache: the output folder's store already resumes and caches",
        )
    model, model_args = resolve_model(model, model_args)  # None: the bundled cascade
    limit, seed = check_limit(limit), check_seed(seed)
    check_task_names(tasks)
    conds = parse_conditions(list(conditions) if not isinstance(conditions, str) else conditions)
    specs = resolve_tasks(
        list(tasks) if not isinstance(tasks, str) else tasks, Path(data_dir) if data_dir else None
    )
    prompt = get_template(template)
    task_list = [limited_task(spec.load(), limit) for spec in specs]  # data before a model
    hasher = AudioHasher()
    check_context_audio(task_list, conds, hasher)  # both rows' wavs, before a model loads
    runtime = {
        "batch_size": batch_size,
        "device": device,
        "long_audio": long_audio,
        "long_context": check_long_context(long_context),
        "trust_remote_code": check_gate("trust_remote_code", trust_remote_code) or None,
        "allow_pickle": check_gate("allow_pickle", allow_pickle) or None,
        "allow_weight_mismatch": check_gate("allow_weight_mismatch", allow_weight_mismatch) or None,
    }
    scorer = get_model(model, model_args, **runtime)
    task_list = _with_sample_audio(task_list, specs, conds, scorer, limit)
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
    run_files.check_before_run(output_path, cells, skipped, log_samples)

    store_dir = output_path or use_cache
    store = ScoreStore(Path(store_dir) if store_dir else None)
    pending = [r for c in cells for r in c.requests if store.get(mid, r.key) is None]
    settings = {
        "limit": limit,
        "batch_size": batch_size,
        "long_audio": long_audio,
        "long_context": long_context,
        "executor": executor,
        "seed": seed,
        **({"score_cache": str(use_cache)} if use_cache else {}),
    }
    return Evaluation(
        model,
        model_args,
        runtime,
        scorer,
        mid,
        task_list,
        conds,
        prompt,
        cells,
        skipped,
        store,
        pending,
        Path(output_path) if output_path else None,
        log_samples,
        settings,
        wall_start=wall_start,
    )


def evaluate(
    model: str | ScoringModel | None = None,
    model_args: str | dict[str, Any] | None = None,
    tasks: Sequence[str] | str = SAMPLE_SUITE,
    conditions: Sequence[str | Condition] | str = ("t2t", "s2t"),
    *,
    progress: bool = True,
    executor: str = "local",
    executor_args: dict[str, Any] | None = None,
    **options: Any,
) -> EvalResult:
    """Score ``tasks`` x ``conditions`` with ``model`` and return the typed result.

    ``options`` are those of :func:`prepare_evaluation` (data_dir, batch_size,
    device, output_path, limit, log_samples, template, seed, long_audio, long_context,
    trust_remote_code, allow_pickle, allow_weight_mismatch, use_cache). ``model=None`` is
    the bundled default cascade (:mod:`s2sbench.models.default_model`). With ``output_path`` the raw
    scores are appended to ``output_path/scores.jsonl`` as they are computed, so rerunning
    the same call skips finished work; ``results.json`` (and, with
    ``log_samples``, ``samples_<task>_<condition>.jsonl``) are written
    atomically at the end.
    """
    with (
        show_progress(progress),  # rendering, transcription, model loading: shown or not
        prepare_evaluation(
            model, model_args, tasks, conditions, executor=executor, **options
        ) as plan,
    ):
        if plan.pending:
            store_as_scored(
                plan.stream(executor, executor_args),
                lambda result: plan.put(*result),
                len(plan.pending),
                progress,
            )
        return plan.finish()
