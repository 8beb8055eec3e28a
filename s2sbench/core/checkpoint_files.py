"""What a checkpoint directory holds: where it is, whether it may be loaded, and its hash.

Reading files only (no torch, no transformers), so every adapter refuses the same
things the same way before any weights load:

* remote code (``auto_map`` in a config) runs only with ``trust_remote_code``;
* pickle-only weights (``*.bin``/``*.pt`` without ``*.safetensors``) load only
  with ``allow_pickle``, because unpickling runs arbitrary code;
* a missing directory, config or weight file is one clear :class:`ModelError`;

and a content hash keys the score cache to the exact weights and configs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from s2sbench.core.errors import ModelError
from s2sbench.core.file_hashes import file_sha256

SAFE_WEIGHTS = ("*.safetensors",)
PICKLE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt")
# Files besides weights whose content changes scores: configs and tokenizers.
SMALL_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "tokenizer.model",
    "added_tokens.json",
    "preprocessor_config.json",
    "processor_config.json",
    "chat_template.jinja",
    "adapter_config.json",  # a PEFT adapter loaded with the weights (Granite Speech's LoRA)
)


def _looks_like_path(name: str) -> bool:
    """A hub id is ``name`` or ``org/name``; anything else is meant as a directory."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def check_pretrained(pretrained: object, key: str = "pretrained") -> str | Path:
    """Refuse what cannot name a checkpoint: a number, an empty value, a file that is not one.

    ``--model-args pretrained=5`` arrives as the integer 5 and ``pretrained=config.json``
    as a file; both would otherwise fail deep inside a library with its own message.
    """
    if isinstance(pretrained, bool) or not isinstance(pretrained, (str, Path)):
        raise ModelError(
            f"{key}={pretrained!r} is a {type(pretrained).__name__}, not a checkpoint",
            hint=f"give {key}= a checkpoint directory, a .gguf file or a hub id",
        )
    if not str(pretrained).strip():
        raise ModelError(f"{key}= is empty", hint=f"give {key}= a checkpoint directory")
    path = Path(pretrained).expanduser()
    if path.is_file() or (path.exists() and not path.is_dir()):
        what = "a .gguf file" if path.suffix.lower() == ".gguf" else "a file"
        raise ModelError(
            f"{key}={pretrained} is {what}, not a checkpoint directory",
            hint="point it at the directory that holds config.json and the weights"
            + (" (GGUF files load through the 'hf' adapter)" if what != "a file" else ""),
        )
    return pretrained


def resolve_local_dir(pretrained: str | Path, revision: str | None = None) -> Path | None:
    """The directory holding ``pretrained``: itself, or a hub id's cached snapshot, or None."""
    check_pretrained(pretrained)
    path = Path(pretrained).expanduser()
    if path.is_dir():
        return path
    if _looks_like_path(str(pretrained)):
        raise ModelError(
            f"checkpoint directory '{pretrained}' not found",
            hint="check the path given as pretrained=",
        )
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(str(pretrained), revision=revision, local_files_only=True))
    except Exception:  # not cached: from_pretrained will say why it cannot get it
        return None


def _files(directory: Path, patterns: tuple[str, ...]) -> list[Path]:
    return sorted(p for pattern in patterns for p in directory.glob(pattern) if p.is_file())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot read {path.name} ({exc})",
            where=str(path.parent),
            hint="the file is not valid JSON; re-save or re-download the checkpoint",
        ) from None


def check_checkpoint_dir(directory: Path, *, trust_remote_code: bool, allow_pickle: bool) -> None:
    """Refuse a directory without config or weights, with remote code, or pickle-only."""
    config = directory / "config.json"
    if not config.is_file():
        raise ModelError(
            "no config.json in the checkpoint directory",
            where=str(directory),
            hint="point pretrained= at a directory saved with save_pretrained",
        )
    needs_code(directory, trust_remote_code)
    if _files(directory, SAFE_WEIGHTS):
        return
    pickles = _files(directory, PICKLE_WEIGHTS)
    if not pickles:
        raise ModelError(
            "no weight files (*.safetensors) in the checkpoint directory",
            where=str(directory),
            hint="save the model with save_pretrained(..., safe_serialization=True)",
        )
    if not allow_pickle:
        raise ModelError(
            f"only pickle weights ({pickles[0].name}) in the checkpoint directory; loading "
            "them can run arbitrary code",
            where=str(directory),
            hint="convert them to safetensors, or pass --allow-pickle if you trust the files",
        )


def needs_code(directory: Path, trust_remote_code: bool) -> None:
    """Refuse a checkpoint whose config or tokenizer config maps classes to code files."""
    if trust_remote_code:
        return
    for name in ("config.json", "tokenizer_config.json", "preprocessor_config.json"):
        path = directory / name
        if path.is_file() and "auto_map" in _read_json(path):
            raise ModelError(
                f"the checkpoint ships its own Python code ({name} has auto_map)",
                where=str(directory),
                hint="review the code, then pass --trust-remote-code to run it",
            )


def weights_fingerprint(path: str | Path | None) -> dict[str, Any]:
    """Content hash of a checkpoint: config/tokenizer bytes + every byte of every weight file.

    Retraining into the same directory, or rewriting one tensor in place, changes the hash,
    so cached scores of the old weights are never reused for the new ones. Weight files are
    hashed whole through :func:`s2sbench.core.file_hashes.file_sha256`, which remembers each
    digest by the file's stat identity, so unchanged multi-GB files are not read again.
    """
    if path is None or not Path(path).is_dir():
        return {"weights_sha256": None, "note": "no local copy to hash"}
    directory = Path(path)
    small = hashlib.sha256()
    for name in SMALL_FILES:
        file = directory / name
        if file.is_file():
            small.update(name.encode() + b"\0" + file.read_bytes())
    weights = hashlib.sha256()
    files = _files(directory, SAFE_WEIGHTS + PICKLE_WEIGHTS)
    for file in files:
        weights.update(file.name.encode() + b"\0" + file_sha256(file).encode())
    return {
        "config_sha256": small.hexdigest()[:20],
        "weights_sha256": weights.hexdigest()[:20] if files else None,
        "weight_files": len(files),
    }
