"""The on-disk layout of a built dataset, and the few helpers every data tool shares.

A built dataset directory holds::

    data.jsonl         reference rows (story: uttid/first/last; choice: uttid/first/A-D/answer)
    audio/<uttid>.wav  the spoken context of each row
    audio/<id>_c<k>.wav  (``--speak all``) continuation k of item <id>
    task.yaml          loads the set with ``s2sbench run --tasks DIR/task.yaml``
    manifest.json      counts, durations, TTS identity and the sha256 of every file

Continuation files are named by the *item* id (the uttid of its first row)
and the index of the continuation in the item, so for a story pair 2k/2k+1
``2k_c0.wav`` is the right ending and ``2k_c1.wav`` the wrong one, and for a
choice row ``<uttid>_c0..c3.wav`` speak options A-D.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from s2sbench.core.atomic_write import remove_stale_temps
from s2sbench.core.errors import DataError
from s2sbench.core.item import Item
from s2sbench.core.regular_files import read_regular_bytes

JSONL_NAME = "data.jsonl"
AUDIO_DIR = "audio"
MANIFEST_NAME = "manifest.json"
TASK_YAML = "task.yaml"
MAX_MANIFEST_BYTES = 256 << 20  # ~1 M files; a bigger "manifest" is not one of ours


def context_wav_name(uttid: int | str) -> str:
    return f"{uttid}.wav"


def continuation_wav_name(item_id: int | str, index: int) -> str:
    return f"{item_id}_c{index}.wav"


def remove_partials(folder: Path) -> int:
    """Delete the temp files an interrupted build left in ``folder``; returns how many.

    Those of :func:`~s2sbench.core.atomic_write.write_atomic_bytes` whose writer is
    gone, and the ``.<name>.part-<pid>`` files of builds by s2sbench 0.1.
    """
    count = len(remove_stale_temps(Path(folder)))
    for tmp in Path(folder).glob(".*.part-*"):
        tmp.unlink(missing_ok=True)
        count += 1
    return count


def clear_dataset(root: Path, extra: tuple[str, ...] = ()) -> None:
    """Remove the files a dataset folder of ours holds (and ``extra`` names); keep the rest."""
    root = Path(root)
    for name in (JSONL_NAME, TASK_YAML, MANIFEST_NAME, *extra):
        (root / name).unlink(missing_ok=True)
    if (root / AUDIO_DIR).is_dir():
        for wav in (root / AUDIO_DIR).glob("*.wav"):
            wav.unlink()


def rows_to_jsonl(rows: list[dict[str, Any]]) -> bytes:
    """Deterministic JSONL bytes: UTF-8 text as is, keys in row order, one row a line."""
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def task_yaml_text(name: str, kind: str, lang: str, description: str = "") -> str:
    """The task file written next to the data (keys read by ``load_task_yaml``)."""
    import yaml

    spec = {
        "name": name,
        "kind": kind,
        "language": lang,
        "jsonl": JSONL_NAME,
        "audio_dir": AUDIO_DIR,
        "version": "1",
        "description": description,
    }
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)


@dataclass(frozen=True)
class DatasetLayout:
    """Where a dataset's pieces are: found from ``task.yaml``, else the folder's one JSONL."""

    root: Path
    name: str
    kind: str
    lang: str
    jsonl: Path
    audio_dir: Path


def read_manifest(root: Path) -> dict[str, Any] | None:
    path = Path(root) / MANIFEST_NAME
    if not path.exists() and not path.is_symlink():
        return None
    raw = read_regular_bytes(path, "manifest", MAX_MANIFEST_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DataError.at(
            path, None, f"unreadable manifest ({what})", "rebuild the set or delete manifest.json"
        ) from None
    if not isinstance(data, dict):
        raise DataError.at(path, None, "manifest is not a JSON object")
    return data


def locate_dataset(root: Path) -> DatasetLayout:
    """Find the JSONL, audio folder, kind and language of the dataset in ``root``."""
    from s2sbench.data.task_spec import load_task_yaml

    root = Path(root)
    if not root.is_dir():
        raise DataError.at(root, None, "dataset folder not found")
    if (root / TASK_YAML).exists():  # anything but a regular file: the loader says what it is
        spec = load_task_yaml(root / TASK_YAML)
        audio = spec.audio_dir if spec.audio_dir is not None else root / AUDIO_DIR
        return DatasetLayout(root, spec.name, spec.kind, spec.lang, spec.jsonl, audio)
    manifest = read_manifest(root) or {}
    jsonls = sorted(root.glob("*.jsonl"))
    if len(jsonls) != 1 or "kind" not in manifest or "language" not in manifest:
        raise DataError.at(
            root,
            None,
            "no task.yaml, and kind/language cannot be inferred",
            "add a task.yaml (name, kind, language, jsonl, audio_dir)",
        )
    audio = root / AUDIO_DIR if (root / AUDIO_DIR).is_dir() else root
    return DatasetLayout(
        root,
        str(manifest.get("name", root.name)),
        manifest["kind"],
        manifest["language"],
        jsonls[0],
        audio,
    )


def attach_continuation_audio(items: list[Item], audio_dir: Path | None) -> list[Item]:
    """Items with ``continuation_audio`` set where every ``<id>_c<k>.wav`` exists.

    Items missing any of their continuation files get ``None``, so the
    speech-continuation conditions report them instead of scoring half.
    """
    if audio_dir is None:
        return list(items)
    out = []
    for item in items:
        paths = tuple(
            Path(audio_dir) / continuation_wav_name(item.id, k)
            for k in range(len(item.continuations))
        )
        complete = all(p.is_file() for p in paths)
        out.append(replace(item, continuation_audio=paths if complete else None))
    return out
