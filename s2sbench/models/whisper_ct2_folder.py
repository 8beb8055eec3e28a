"""What a CTranslate2 Whisper folder holds, read from its files without loading the model.

Both are read from the files alone, never by loading the model: a run whose transcripts
are all cached asks which languages the folder knows and names its weights in the
transcript cache key, and must not pay for a model load to do so.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from s2sbench.core.errors import ModelError
from s2sbench.models.transcript_cache import content_sha256

REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")


def folder_sha256(model_dir: Path) -> str:
    """One hash of every file in the folder (name and content): the weights' identity."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.iterdir() if p.is_file()):
        if not path.name.startswith("."):
            digest.update(f"{path.name}\0{content_sha256(path)}\n".encode())
    return digest.hexdigest()


def model_languages(model_dir: Path) -> tuple[bool, frozenset[str]]:
    """(multilingual?, the language codes its tokenizer has) of a CTranslate2 Whisper folder."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        vocab = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot read the Whisper folder's config ({exc})", where=str(model_dir)
        ) from None
    multilingual = bool(config.get("lang_ids"))
    tokens = [t.get("content", "") for t in vocab.get("added_tokens", [])]
    languages = frozenset(
        t[2:-2] for t in tokens if t.startswith("<|") and t.endswith("|>") and 2 <= len(t) - 4 <= 3
    )
    return multilingual, languages | {"en"}
