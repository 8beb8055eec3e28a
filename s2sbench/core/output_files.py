"""Output folders: every file s2sbench writes stays inside the folder the user named.

A name built from data (a task name, a condition, a label) must not carry ``/``
or ``..`` out of ``--output-path``, and a symlinked folder inside it must not
lead out either.
"""

from __future__ import annotations

from pathlib import Path

from s2sbench.core.errors import StoreError


def output_file(root: Path, *parts: str) -> Path:
    """``root / parts...``, checked to stay inside the output folder ``root``.

    Every file s2sbench writes under ``--output-path`` goes through here
    (results, samples, summaries, reports): a name built from data (a task
    name, a condition, a label) must not carry ``/`` or ``..`` out of it, and
    a symlinked folder inside it must not lead out either.
    """
    root = Path(root)
    for part in parts:
        pieces = Path(part).parts
        if not part or Path(part).is_absolute() or ".." in pieces or "\0" in part:
            raise StoreError(
                f"output file name {part!r} would leave the output folder {root}",
                hint="task names and labels must be plain names (letters, digits, _ . -)",
            )
    path = root.joinpath(*parts)
    real_root = root.resolve()
    real = path.resolve()
    if real != real_root and real_root not in real.parents:
        raise StoreError(
            f"output file {path} resolves to {real}, outside the output folder {root}",
            hint="remove the symlink, or choose another --output-path",
        )
    return path


def check_output_dir(directory: Path) -> None:
    """``--output-path`` must be a directory (or not exist yet)."""
    if Path(directory).exists() and not Path(directory).is_dir():
        raise StoreError(
            f"output path {directory} is a file", hint="give a directory for --output-path"
        )
