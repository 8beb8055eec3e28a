"""The files a run leaves in its output directory, and never losing an earlier run's.

A rerun of the same configuration into the same ``--output-path`` resumes and
rewrites ``results.json`` and the samples files with the same numbers. A run
of another configuration (model, model args, tasks or their versions and
sizes, conditions, template, limit, seed, long-audio policy) would replace
results that nothing can bring back, so just before its own results are
written, the earlier ``results.json`` and its samples files are moved to names
carrying the earlier run's start time (``results_<UTC time>.json``,
``samples_<task>_<condition>_<UTC time>.jsonl``), as lm-evaluation-harness
names its files. Until that moment nothing of the earlier run is touched, so a
run that fails half way loses nothing. Settings that cannot change a score
(batch size, device, executor) and timings or versions are not compared.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from s2sbench.core.cell import Cell
from s2sbench.core.errors import ConfigError, DataError, StoreError
from s2sbench.core.output_files import check_output_dir, output_file
from s2sbench.core.regular_files import check_replaceable, read_regular
from s2sbench.core.run_options import check_something_to_score
from s2sbench.core.strict_json import write_json, write_jsonl
from s2sbench.reports.result_fields import MalformedResults
from s2sbench.reports.results import RESULTS_FORMAT_VERSION, EvalResult, RunResults, sample_rows

RESULTS_NAME = "results.json"
# What makes two runs' results comparable cell by cell; everything else in config may differ.
IDENTITY_KEYS = (
    "model",
    "model_id",
    "model_args",
    "tasks",
    "conditions",
    "template",
    "limit",
    "seed",
    "long_audio",
)
STARTED_KEYS = ("started_at", "start_date", "started", "start_time")  # ISO 8601, if recorded


def samples_name(task: str, condition: str, stamp: str = "") -> str:
    return f"samples_{task}_{condition}{'_' + stamp if stamp else ''}.jsonl"


def _malformed(path: Path, what: str) -> DataError:
    return DataError.at(
        path,
        None,
        f"not an s2sbench results file ({what})",
        hint="give the --output-path of 's2sbench run' or 's2sbench sweep', or move the file away",
    )


def load_results_file(path: Path) -> RunResults | None:
    """``results.json`` as written by ``run`` (version and shape checked), or None if absent.

    Read without following a link and refusing a FIFO; a file of another shape
    is one clear ``DataError`` naming it and the bad key, never a crash deep in a
    report. Extra keys are fine (newer versions add some) and are kept.
    """
    raw = read_regular(Path(path))
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise DataError.at(
            path,
            None,
            f"cannot parse it as JSON ({exc})",
            hint="move it away; rerunning 's2sbench run' rewrites it from scores.jsonl",
        ) from None
    version = data.get("format_version", 1) if isinstance(data, dict) else 1
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _malformed(path, f"format_version {version!r} is not a version number")
    if version > RESULTS_FORMAT_VERSION:
        raise ConfigError(
            f"results format {version}, this s2sbench reads formats up to {RESULTS_FORMAT_VERSION}",
            where=str(path),
            hint="upgrade s2sbench to read it",
        )
    try:
        return RunResults.from_json(data)
    except MalformedResults as exc:
        raise _malformed(path, exc.what) from None


def check_before_run(
    output: str | Path | None, cells: list[Cell], skipped: list[dict[str, str]], log_samples: bool
) -> None:
    """Before any work: something to score, earlier results readable, every target regular."""
    check_something_to_score(len(cells), skipped)
    if output is None or output == "":
        return
    output = Path(output)
    check_output_dir(output)
    load_results_file(output / RESULTS_NAME)
    check_replaceable(output / RESULTS_NAME)
    for cell in cells if log_samples else []:
        check_replaceable(output / samples_name(cell.task.name, cell.condition.value))


def run_identity(config: Mapping[str, Any]) -> dict[str, Any]:
    identity = {key: config.get(key) for key in IDENTITY_KEYS}
    tasks = identity["tasks"]
    if isinstance(tasks, dict):  # name -> its version, source and size
        identity["tasks"] = {
            name: {k: v for k, v in spec.items() if k in ("version", "source", "n_items")}
            if isinstance(spec, dict)
            else spec
            for name, spec in tasks.items()
        }
    return json.loads(json.dumps(identity, sort_keys=True, default=str))


def _started(results: RunResults, path: Path) -> dt.datetime:
    """When the run of ``results`` started: as recorded, else its file's time less its duration."""
    config = results.config
    for key in STARTED_KEYS:
        value = config.get(key, results.extra.get(key))
        if isinstance(value, str):
            try:
                when = dt.datetime.fromisoformat(value)
            except ValueError:
                continue
            return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    seconds = config.get("seconds")
    ended = os.stat(path, follow_symlinks=False).st_mtime
    took = float(seconds) if isinstance(seconds, int | float) else 0.0
    return dt.datetime.fromtimestamp(ended - took, dt.timezone.utc)


def _free_stamp(output: Path, base: str, cells: list[tuple[str, str]]) -> str:
    """``base``, or ``base-2``, ``-3``...: the first stamp under which no file is overwritten.

    A target may exist only when its source is gone: that is a samples file a
    killed move already put there, and the rest must join it under one stamp.
    """
    number = 1
    while True:
        stamp = base if number == 1 else f"{base}-{number}"
        pairs = [(RESULTS_NAME, f"results_{stamp}.json")] + [
            (samples_name(t, c), samples_name(t, c, stamp)) for t, c in cells
        ]
        if not any(
            os.path.lexists(output / source) and os.path.lexists(output / target)
            for source, target in pairs
        ):
            return stamp
        number += 1


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    a, b = run_identity(old), run_identity(new)
    return [key for key in IDENTITY_KEYS if a.get(key) != b.get(key)]


def keep_earlier_results(output: Path, new_config: Mapping[str, Any]) -> str | None:
    """Move an earlier run's results aside when this run's configuration differs.

    Call it holding the output directory's lock, right before writing the new
    results. Samples go first and ``results.json`` last, so a kill in between
    leaves ``results.json`` in place to be moved under the same name by the
    rerun. Returns the one line to tell the user, or None when nothing moved.
    """
    path = output / RESULTS_NAME
    earlier = load_results_file(path)
    if earlier is None:
        return None
    changed = differences(earlier.config, new_config)
    if not changed:
        return None  # the same configuration: its results are rewritten
    cells = earlier.cell_names()
    base = _started(earlier, path).strftime("%Y-%m-%dT%H-%M-%SZ")
    stamp = _free_stamp(output, base, cells)
    moved = 0
    try:
        for task, condition in cells:
            source = output / samples_name(task, condition)
            if source.is_file() and not source.is_symlink():
                os.rename(source, output / samples_name(task, condition, stamp))
                moved += 1
        os.rename(path, output / f"results_{stamp}.json")
    except OSError as exc:
        raise StoreError(
            f"cannot move the earlier results aside ({exc.strerror})",
            where=str(exc.filename or path),
            hint="fix permissions or choose another --output-path; nothing was overwritten",
        ) from None
    samples = f" and {moved} samples file{'s' * (moved != 1)} (*_{stamp}.jsonl)" if moved else ""
    return (
        f"earlier results in {output} came from another configuration "
        f"({', '.join(changed)} differ): kept as results_{stamp}.json{samples}"
    )


def write_results(output: Path, result: EvalResult, log_samples: bool) -> None:
    """``results.json`` and the samples files, atomically, after keeping an earlier run's."""
    cells = result.cells if log_samples else []
    # Every path is checked to stay inside the output folder before anything moves or is written.
    paths = [output_file(output, samples_name(c.task.name, c.condition.value)) for c in cells]
    results_path = output_file(output, RESULTS_NAME)
    moved = keep_earlier_results(output, result.config)
    if moved:
        print(f"s2sbench: {moved}", file=sys.stderr)
    write_json(results_path, result.to_json())
    for path, cell in zip(paths, cells):
        write_jsonl(path, sample_rows(cell))
