"""``data validate``: every problem of a dataset folder, one line each.

Unlike the readers, which stop at the first bad record (they feed a run),
validation keeps going so one pass lists everything to fix: text rows
(duplicate ids, bad story pairs, bad answers), each audio file (missing,
corrupt, empty, wrong rate, stereo, clipped, duration outliers), counts, and
the manifest's hashes.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from s2sbench.core.errors import DataError
from s2sbench.core.file_hashes import hash_file
from s2sbench.core.regular_files import require_regular_file
from s2sbench.data.dataset_rules import CHOICE_LETTERS, Row, parse_dataset
from s2sbench.data.layout import (
    MANIFEST_NAME,
    DatasetLayout,
    context_wav_name,
    continuation_wav_name,
    locate_dataset,
    read_manifest,
)
from s2sbench.data.manifest import dataset_files

FULL_SCALE = 32767 / 32768
CLIP_MIN_SAMPLES = 3  # fewer full-scale samples than this is a loud peak, not clipping
OUTLIER_FACTOR = 4.0  # seconds-per-character this far from the median is an outlier
_CONTEXT_WAV = re.compile(r"^(-?\d+)\.wav$")


@dataclass(frozen=True)
class Problem:
    """One problem: the file (and line) it is in, what is wrong, and the record it concerns."""

    file: str
    message: str
    line: int | None = None
    record: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}" + (f" (record {self.record})" if self.record else "")


class _Checker:
    def __init__(self, layout: DatasetLayout, sample_rate: int | None, speak_all: bool) -> None:
        self.layout = layout
        self.sample_rate = sample_rate
        self.speak_all = speak_all
        self.problems: list[Problem] = []

    def rel(self, path: Path) -> str:
        try:
            return str(Path(path).relative_to(self.layout.root))
        except ValueError:
            return str(path)

    def add(
        self, path: Path, message: str, line: int | None = None, record: str | None = None
    ) -> None:
        self.problems.append(Problem(self.rel(path), message, line, record))

    # --- text -------------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        """The good rows, by uttid; every text problem goes to the list (the rules of ``run``)."""
        try:
            parsed = parse_dataset(self.layout.kind, self.layout.jsonl, self.layout.lang)
        except DataError as exc:  # the file cannot be read at all
            self.add(self.layout.jsonl, exc.what)
            return []
        for problem in parsed.problems:
            self.add(problem.file, problem.message, problem.line, problem.record)
        return parsed.rows

    # --- audio ------------------------------------------------------------------------------
    def wav(self, path: Path, record: str) -> float | None:
        """Check one file; its duration in seconds when it decodes, else ``None``."""
        if not path.exists():
            self.add(path, "missing audio file", record=record)
            return None
        try:
            require_regular_file(path, "audio file")
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except DataError as exc:
            self.add(path, exc.what, record=record)
            return None
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            self.add(path, f"corrupt audio: cannot decode ({str(exc).strip()})", record=record)
            return None
        if data.shape[0] == 0:
            self.add(path, "empty audio: no samples", record=record)
            return None
        if self.sample_rate is not None and rate != self.sample_rate:
            self.add(
                path, f"wrong sample rate {rate} Hz, expected {self.sample_rate} Hz", record=record
            )
        if data.shape[1] != 1:
            self.add(path, f"stereo audio ({data.shape[1]} channels), expected mono", record=record)
        if not np.isfinite(data).all():
            self.add(path, "audio contains NaN or infinite samples", record=record)
            return None
        clipped = int(np.count_nonzero(np.abs(data) >= FULL_SCALE))
        if clipped >= CLIP_MIN_SAMPLES:
            self.add(path, f"clipped audio: {clipped} samples at full scale", record=record)
        return data.shape[0] / rate

    def audio(self, rows: list[Row]) -> None:
        audio_dir = self.layout.audio_dir
        ratios: list[tuple[float, Path, str, float, int]] = []
        for row in rows:
            record = f"uttid {row.uttid}"
            path = audio_dir / context_wav_name(row.uttid)
            seconds = self.wav(path, record)
            if seconds is not None:
                chars = max(1, len(row.record["first"].strip()))
                ratios.append((seconds / chars, path, record, seconds, chars))
        self.outliers(ratios)
        for item_id, texts in self.continuations(rows):
            if (
                any(
                    (audio_dir / continuation_wav_name(item_id, k)).is_file()
                    for k in range(len(texts))
                )
                or self.speak_all
            ):
                for k in range(len(texts)):
                    self.wav(
                        audio_dir / continuation_wav_name(item_id, k),
                        f"item {item_id} continuation {k}",
                    )
        on_disk = (
            {int(m.group(1)) for p in audio_dir.glob("*.wav") if (m := _CONTEXT_WAV.match(p.name))}
            if audio_dir.is_dir()
            else set()
        )
        ids = {row.uttid for row in rows}
        if len(on_disk) != len(ids):
            self.add(
                self.layout.jsonl,
                f"text/audio count mismatch: {len(ids)} records but "
                f"{len(on_disk)} context wav files in {self.rel(audio_dir) or '.'}",
            )
        for uttid in sorted(on_disk - ids):
            self.add(
                audio_dir / context_wav_name(uttid),
                f"audio file has no record in {self.rel(self.layout.jsonl)}",
                record=f"uttid {uttid}",
            )

    def continuations(self, rows: list[Row]) -> list[tuple[int, list[str]]]:
        if self.layout.kind == "story":
            return [
                (rows[k].uttid, [rows[k].record["last"], rows[k + 1].record["last"]])
                for k in range(0, len(rows) - 1, 2)
            ]
        return [(row.uttid, [row.record[c] for c in CHOICE_LETTERS]) for row in rows]

    def outliers(self, ratios: list[tuple[float, Path, str, float, int]]) -> None:
        """Flag files whose seconds per character is far from the set's median."""
        if len(ratios) < 3:
            return
        median = statistics.median(r[0] for r in ratios)
        for ratio, path, record, seconds, chars in ratios:
            if median > 0 and not median / OUTLIER_FACTOR <= ratio <= median * OUTLIER_FACTOR:
                self.add(
                    path,
                    f"duration outlier: {seconds:.2f} s for {chars} characters "
                    f"({ratio / median:.1f}x the median seconds per character)",
                    record=record,
                )

    # --- manifest ---------------------------------------------------------------------------
    def manifest(self, manifest: dict[str, Any] | None) -> None:
        if manifest is None:
            return
        root = self.layout.root
        listed = manifest.get("files") or {}
        if not isinstance(listed, dict):
            self.add(root / MANIFEST_NAME, "'files' is not a mapping of file names")
            return
        for rel, entry in sorted(listed.items()):
            path = root / rel
            if Path(rel).is_absolute() or ".." in Path(rel).parts:
                self.add(root / MANIFEST_NAME, f"file name {rel!r} leaves the dataset folder")
            elif not path.exists():
                self.add(path, "listed in manifest.json but missing")
            elif not path.is_file():
                self.add(path, "listed in manifest.json but not a regular file")
            elif hash_file(path) != (entry.get("sha256") if isinstance(entry, dict) else None):
                self.add(
                    path,
                    "manifest hash mismatch: sha256 differs from manifest.json "
                    "(the file changed after the build)",
                )
        for rel in dataset_files(root):
            if rel not in listed:
                self.add(root / rel, "not listed in manifest.json")


def validate_dataset(root: Path, sample_rate: int | None = None) -> list[Problem]:
    """All problems of the dataset in ``root``; an empty list means it is clean.

    The expected sample rate is ``sample_rate``, else the manifest's, else the
    most common rate among the context files.
    """
    root = Path(root)
    try:
        layout = locate_dataset(root)
        manifest = read_manifest(root)
    except DataError as exc:
        return [Problem(exc.where or str(root), exc.what)]
    if sample_rate is None and manifest:
        sample_rate = (manifest.get("build") or {}).get("sample_rate")
    if sample_rate is None and layout.audio_dir.is_dir():
        rates = [
            sf.info(str(p)).samplerate
            for p in sorted(layout.audio_dir.glob("*.wav"))
            if _readable(p)
        ]
        sample_rate = statistics.mode(rates) if rates else None
    speak_all = ((manifest or {}).get("build") or {}).get("speak") == "all"
    checker = _Checker(layout, sample_rate, speak_all)
    rows = checker.rows()
    checker.audio(rows)
    checker.manifest(manifest)
    return checker.problems


def _readable(path: Path) -> bool:
    if not path.is_file():  # a FIFO would block sf.info forever
        return False
    try:
        sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError):
        return False
    return True
