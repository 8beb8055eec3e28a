"""``sweep``: evaluate every checkpoint of a training run, once, resumably.

Layout of ``output_path``:

* ``<ckpt_name>/``: exactly what ``evaluate`` writes for one run
  (``results.json``, ``scores.jsonl``, ``samples_<task>_<condition>.jsonl``),
  plus ``summary.txt`` (that checkpoint's reference lines under headers) and
  ``sweep_checkpoint.json`` (the marker saying it is finished, and for what).
* ``sweep.json``: the index (the request, every checkpoint with its step and
  status), rewritten atomically after each checkpoint.
* ``summaries/<task>_<condition>/results_summary.txt``: the reference file, one
  line ``step,acc%,mean_right_loss,mean_wrong_loss`` per finished checkpoint in
  step order, no header (:mod:`s2sbench.sweeps.summaries`); ``summary.txt``:
  all of them in one file, each block under a ``# task=.. condition=..`` header.

A checkpoint is skipped when its marker records the same request and the
same checkpoint signature (file names, sizes, inodes, mtimes, ctimes). A checkpoint killed
half-way is evaluated again, and ``evaluate`` reuses every score already in
its ``scores.jsonl``, so only the unfinished items are computed.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2sbench.core.atomic_write import write_atomic
from s2sbench.core.errors import ConfigError
from s2sbench.core.progress import Progress, show_progress
from s2sbench.core.run_config import ExecutionOptions, RunConfig
from s2sbench.core.strict_json import write_json
from s2sbench.models.registry import parse_model_args
from s2sbench.reports.results import RunResults
from s2sbench.reports.sweep_series import (
    COMBINED_SUMMARY_NAME,
    SWEEP_INDEX,
    Point,
    Sweep,
    load_sweep,
    summary_text,
)
from s2sbench.sweeps.checkpoints import Checkpoint, find_checkpoints
from s2sbench.sweeps.lock import sweep_lock
from s2sbench.sweeps.summaries import write_summaries

MARKER_NAME = "sweep_checkpoint.json"


@dataclass(frozen=True)
class SweepOutcome:
    """What happened to each checkpoint in this call, and the sweep as now on disk."""

    evaluated: list[str]
    skipped: list[str]
    sweep: Sweep


def _request_id(request: dict[str, Any]) -> str:
    blob = json.dumps(request, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _is_finished(out_dir: Path, request_id: str, signature: str) -> bool:
    marker = out_dir / MARKER_NAME
    if not (out_dir / "results.json").is_file() or not marker.is_file():
        return False
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return data.get("request_id") == request_id and data.get("signature") == signature


def free_memory() -> None:
    """Drop the last checkpoint's model before loading the next one (CPU and GPU)."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _checkpoint_summary(results: RunResults, step: int) -> str:
    cells = {
        (task, cond): [Point.from_metrics(step, m)]
        for task, by_cond in results.results.items()
        for cond, m in by_cond.items()
    }
    return summary_text(cells)


def write_sweep_files(
    root: Path, request: dict[str, Any], checkpoints: list[Checkpoint], status: dict[str, str]
) -> Sweep:
    """Rewrite ``sweep.json`` and the sweep's summaries from what is on disk."""
    index = {
        "format": 1,
        "request": request,
        "checkpoints": [
            {
                "name": c.name,
                "path": str(c.path),
                "step": c.step,
                "status": status.get(c.name, "pending"),
            }
            for c in checkpoints
        ],
    }
    write_json(root / SWEEP_INDEX, index)
    sweep = load_sweep(root)
    write_summaries(root, sweep)
    return sweep


def sweep(
    checkpoints: str | Sequence[str] | Sequence[Checkpoint],
    output_path: str | Path,
    model: str | None = None,
    model_args: str | dict[str, Any] | None = None,
    tasks: Sequence[str] | str | None = None,
    conditions: Sequence[str] | str | None = None,
    *,
    config: RunConfig | None = None,
    step_regex: str | None = None,
    pretrained_key: str = "pretrained",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    executor: str = "local",
    executor_args: dict[str, Any] | None = None,
    **options: Any,
) -> SweepOutcome:
    """Evaluate each checkpoint (``pretrained=<path>`` merged into ``model_args``) in step order.

    ``config`` (a :class:`RunConfig`; default: model ``hf``) is what every checkpoint
    is evaluated with; the keyword arguments (``options``: any RunConfig field) build
    it or are merged into it (:meth:`RunConfig.merge`), as in ``evaluate``. Its runtime
    settings (batch_size, device, long_audio, trust_remote_code, ...) do not change scores
    (``long_context="truncate"`` aside, which is recorded), so they are not part of
    what makes a checkpoint "finished". With ``executor="ray"`` every unfinished
    checkpoint is planned first and one actor pool scores them all, each replica
    loading a checkpoint once (``s2sbench.executors.ray_sweep``).
    """
    given = {"model": model, "model_args": model_args, "tasks": tasks, "conditions": conditions}
    config = (config or RunConfig(model="hf")).merge({**given, **options})
    execution = ExecutionOptions(progress, executor, executor_args)  # checked before any work
    say = log or (lambda _msg: None)
    if isinstance(checkpoints, str) or not checkpoints or isinstance(checkpoints[0], str):
        found = find_checkpoints(checkpoints, step_regex)  # type: ignore[arg-type]
    else:
        found = list(checkpoints)  # type: ignore[arg-type]
    base_args = parse_model_args(config.model_args_dict_or_text())
    if pretrained_key in base_args:
        raise ConfigError(
            f"--model-args sets '{pretrained_key}', but a sweep sets it to each checkpoint",
            hint=f"remove {pretrained_key}=... from --model-args",
        )
    request = {
        "model": config.model,
        "model_args": base_args,
        "pretrained_key": pretrained_key,
        "tasks": list(config.tasks),
        "conditions": [c.value for c in config.conditions],
        "data_dir": config.data_dir,
        "limit": config.limit,
        "template": config.template,
        "seed": config.seed,
    }
    if config.long_context == "truncate":  # the only runtime setting that moves scores
        request["long_context"] = "truncate"
    request_id = _request_id(request)
    root = Path(output_path)
    root.mkdir(parents=True, exist_ok=True)
    with sweep_lock(root):
        status = {
            c.name: "done" for c in found if _is_finished(root / c.name, request_id, c.signature())
        }
        write_sweep_files(root, request, found, status)

        todo = [c for c in found if status.get(c.name) != "done"]
        skipped = [c.name for c in found if status.get(c.name) == "done"]
        for name in skipped:
            say(f"{name}: finished, skipped")
        run = _SweepRun(
            root,
            request,
            request_id,
            found,
            status,
            config,
            base_args,
            pretrained_key,
            execution,
            say,
        )
        with show_progress(progress):  # model loading and audio rendering too
            evaluated = run.locally(todo) if executor == "local" else run.on_pool(todo)
        final = write_sweep_files(root, request, found, status)
    return SweepOutcome(evaluated, skipped, final)


@dataclass
class _SweepRun:
    """What every checkpoint of one sweep call shares, and the two ways to score them."""

    root: Path
    request: dict[str, Any]
    request_id: str
    found: list[Checkpoint]
    status: dict[str, str]
    config: RunConfig
    base_args: dict[str, Any]
    pretrained_key: str
    execution: ExecutionOptions
    say: Callable[[str], None]

    def checkpoint_config(self, ckpt: Checkpoint) -> RunConfig:
        """The sweep's config for one checkpoint: its path, its folder, its sample logs."""
        return self.config.merge(
            {
                "model_args": {**self.base_args, self.pretrained_key: str(ckpt.path)},
                "output_path": self.root / ckpt.name,
                "log_samples": True,
            }
        )

    def finish_checkpoint(self, ckpt: Checkpoint, signature: str, data: RunResults) -> None:
        """Per-checkpoint summary and marker, then the sweep index: the checkpoint is done."""
        out_dir = self.root / ckpt.name
        write_atomic(out_dir / COMBINED_SUMMARY_NAME, _checkpoint_summary(data, ckpt.step))
        marker = {
            "request_id": self.request_id,
            "signature": signature,
            "step": ckpt.step,
            "checkpoint": str(ckpt.path),
        }
        write_json(out_dir / MARKER_NAME, marker)
        self.status[ckpt.name] = "done"
        write_sweep_files(self.root, self.request, self.found, self.status)

    def locally(self, todo: list[Checkpoint]) -> list[str]:
        """One checkpoint after the other in this process, memory freed in between."""
        from s2sbench.evaluator import evaluate

        with Progress("checkpoints", len(todo), "ckpt", enabled=self.execution.progress) as bar:
            for position, ckpt in enumerate(todo, start=1):
                self.say(f"[{position}/{len(todo)}] {ckpt.name} (step {ckpt.step}): evaluating")
                signature = ckpt.signature()
                result = evaluate(
                    config=self.checkpoint_config(ckpt), progress=self.execution.progress
                )
                data = result.saved()
                del result
                self.finish_checkpoint(ckpt, signature, data)
                free_memory()
                bar.update(1)
        return [c.name for c in todo]

    def on_pool(self, todo: list[Checkpoint]) -> list[str]:
        """Plan every unfinished checkpoint, score them all on one pool, then finish each."""
        from contextlib import ExitStack

        from s2sbench.evaluator import prepare_evaluation, store_as_scored
        from s2sbench.executors import remote_model
        from s2sbench.executors.ray_sweep import CheckpointWork, sweep_scores

        executor = self.execution.executor
        model = remote_model(executor, self.config.model)
        with ExitStack() as stack:
            plans = [
                stack.enter_context(prepare_evaluation(self.checkpoint_config(c), self.execution))
                for c in todo
            ]
            signatures = [c.signature() for c in todo]
            work = [CheckpointWork(c.path, p.pending, p.mid) for c, p in zip(todo, plans)]
            total = sum(len(p.pending) for p in plans)
            self.say(f"scoring {len(todo)} checkpoints ({total} contexts) on the {executor} pool")
            if total:
                store_as_scored(
                    sweep_scores(
                        model,
                        self.base_args,
                        plans[0].runtime,
                        work,
                        self.execution.executor_args_dict(),
                        self.pretrained_key,
                    ),
                    lambda result: plans[result[0]].put(result[1], result[2]),
                    total,
                    self.execution.progress,
                )
            for ckpt, plan, signature in zip(todo, plans, signatures):
                self.finish_checkpoint(ckpt, signature, plan.finish().saved())
        return [c.name for c in todo]
