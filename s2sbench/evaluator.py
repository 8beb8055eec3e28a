"""``evaluate``: the one way through the pipeline.

data -> tasks -> requests -> models -> scores -> metrics -> reports. Each stage
is a call into its package; :mod:`s2sbench.planning` plans the run from its
``RunConfig``, and this module scores what is left, streams the scores into the
store as they arrive, and writes the results.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from s2sbench.core.cell import Cell
from s2sbench.core.conditions import Condition
from s2sbench.core.errors import ModelError
from s2sbench.core.progress import show_progress
from s2sbench.core.provenance import git_hash, versions, wall_clock
from s2sbench.core.run_config import ExecutionOptions, RunConfig
from s2sbench.core.scoring import ContinuationScore, ScoringModel
from s2sbench.core.strict_json import json_safe
from s2sbench.metrics.accuracy import task_metrics
from s2sbench.metrics.wer import transcript_error
from s2sbench.models.registry import parse_model_args
from s2sbench.planning import RunPlan, check_scores, plan_run, store_as_scored
from s2sbench.reports import run_files
from s2sbench.reports.result_degradation import degradation_results
from s2sbench.reports.result_metrics import CellMetrics, SkippedCell
from s2sbench.reports.results import EvalResult, RecordedConfig, sample_rows
from s2sbench.scores.item_records import item_records

__all__ = [
    "Cell",
    "EvalResult",
    "Evaluation",
    "ExecutionOptions",
    "RunConfig",
    "evaluate",
    "prepare_evaluation",
    "sample_rows",
    "store_as_scored",
]


def truncated_contexts(records: Iterable[Any]) -> int:
    """How many contexts of a cell were cut to fit the model's window (``--long-context
    truncate``): adapters mark them with ``extra["truncated_context_tokens"]``."""
    return sum(1 for r in records if any(s.extra.get("truncated_context_tokens") for s in r.scores))


@dataclass
class Evaluation(RunPlan):
    """One evaluation between planning and results: requests built, store open, work known.

    ``evaluate`` is ``prepare_evaluation`` + scoring ``pending`` + ``finish``;
    a sweep on Ray prepares many of these and feeds them from one actor pool.
    Its settings are read from ``config`` (what is scored) and ``execution``
    (where and how visibly).
    """

    execution: ExecutionOptions = field(default_factory=ExecutionOptions)

    @property
    def model(self) -> str | ScoringModel:
        assert self.config.model is not None  # resolved by planning
        return self.config.model

    @property
    def model_args(self) -> str | dict[str, Any] | None:
        return self.config.model_args_dict_or_text()

    @property
    def runtime(self) -> dict[str, Any]:
        """The adapter's run-wide settings (``models.registry.RUNTIME_KEYS``)."""
        return self.config.runtime()

    @property
    def output_path(self) -> Path | None:
        return self.config.output_path

    @property
    def log_samples(self) -> bool:
        return self.config.log_samples

    @property
    def settings(self) -> dict[str, Any]:
        """The run settings results.json records next to the model and tasks."""
        config = self.config
        return {
            "limit": config.limit,
            "batch_size": config.batch_size,
            "long_audio": config.long_audio,
            "long_context": config.long_context,
            "executor": self.execution.executor,
            "seed": config.seed,
            **({"score_cache": config.use_cache} if config.use_cache else {}),
        }

    def put(self, index: int, scores: list[ContinuationScore]) -> None:
        """Check and append the scores of ``pending[index]``."""
        request = self.pending[index]
        check_scores(request, scores)
        self.store.put(self.mid, request, scores)

    def stream(self) -> Iterator[tuple[int, list[ContinuationScore]]]:
        """Scores of ``pending`` from this process's model or from an executor's pool."""
        if self.execution.executor == "local":
            return self.scorer.score(self.pending)
        from s2sbench.executors import remote_scores

        return remote_scores(self.config, self.pending, self.execution)

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
        results: dict[str, dict[str, CellMetrics]] = {}
        for cell in self.cells:
            asr = None
            if cell.condition.context_is_speech:
                texts = {item.id: item.context_text for item in cell.task.items}
                asr = transcript_error(texts, cell.records, cell.task.lang)
            truncated = None
            if self.settings.get("long_context") == "truncate":
                truncated = truncated_contexts(cell.records)
            metrics = CellMetrics.measured(
                task_metrics(cell.records, cell.task.kind), asr, truncated
            )
            results.setdefault(cell.task.name, {})[cell.condition.value] = metrics

        from s2sbench.metrics.degradation import pair_comparisons

        degradation = degradation_results(pair_comparisons(self.cells, seed=self.settings["seed"]))
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
        # The typed objects are built once, from the metrics; results.json is their to_json.
        result = EvalResult(
            results,
            degradation,
            tuple(SkippedCell(s["task"], s["condition"], s["reason"]) for s in self.skipped),
            RecordedConfig(config),
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


def prepare_evaluation(config: RunConfig, execution: ExecutionOptions | None = None) -> Evaluation:
    """Plan ``config`` (:func:`s2sbench.planning.plan_run`) as an evaluation to score."""
    plan = plan_run(config)
    return Evaluation(**vars(plan), execution=execution or ExecutionOptions())


def evaluate(
    model: str | ScoringModel | None = None,
    model_args: str | dict[str, Any] | None = None,
    tasks: Sequence[str] | str | None = None,
    conditions: Sequence[str | Condition] | str | None = None,
    *,
    config: RunConfig | None = None,
    progress: bool = True,
    executor: str = "local",
    executor_args: dict[str, Any] | None = None,
    **options: Any,
) -> EvalResult:
    """Score ``tasks`` x ``conditions`` with ``model`` and return the typed result.

    ``config``: a :class:`RunConfig`; the keyword arguments (those above and
    ``options``: any RunConfig field, e.g. data_dir, batch_size, device,
    output_path, limit, log_samples, template, seed, long_audio, long_context,
    trust_remote_code, allow_pickle, allow_weight_mismatch, use_cache) build one, or
    are merged into the one given (:meth:`RunConfig.merge`: a keyword left None keeps
    the config's value). Defaults: the sample suite, T2T and S2T, and
    ``model=None``, the bundled default cascade (:mod:`s2sbench.models.default_model`).
    With ``output_path`` the raw scores are appended to ``output_path/scores.jsonl`` as
    they are computed, so rerunning the same call skips finished work; ``results.json``
    (and, with ``log_samples``, ``samples_<task>_<condition>.jsonl``) are written
    atomically at the end.
    """
    given = {"model": model, "model_args": model_args, "tasks": tasks, "conditions": conditions}
    config = (config or RunConfig()).merge({**given, **options})  # checked again, merged
    execution = ExecutionOptions(progress, executor, executor_args)
    with (
        show_progress(progress),  # rendering, transcription, model loading: shown or not
        prepare_evaluation(config, execution) as plan,
    ):
        if plan.pending:
            store_as_scored(
                plan.stream(), lambda result: plan.put(*result), len(plan.pending), progress
            )
        return plan.finish()
