"""Loading Hugging Face checkpoints safely, and fingerprinting what was loaded.

Shared by every ``transformers`` adapter so that all of them refuse the same
things the same way:

* remote code (``auto_map`` in a config) runs only with ``trust_remote_code``;
* pickle-only weights (``*.bin``/``*.pt`` without ``*.safetensors``) load only
  with ``allow_pickle``, because unpickling runs arbitrary code;
* a missing directory, config or weight file is one clear :class:`ModelError`.

torch and transformers are imported inside the functions: importing this
module must stay cheap (the CLI imports adapters lazily, but tests and plugins
may import helpers directly).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from s2sbench.errors import ModelError

DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "float": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
}
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
MIB = 1 << 20
MAX_LENGTH_KEYS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")


def parse_dtype(name: Any) -> Any:
    """``"float32"``/``"bfloat16"``/``"float16"`` -> torch dtype; ``"auto"``/None -> ``"auto"``."""
    import torch

    if name is None or name == "auto":
        return "auto"
    if isinstance(name, torch.dtype):
        return name
    canonical = DTYPES.get(str(name).lower().removeprefix("torch."))
    if canonical is None:
        raise ModelError(f"unknown dtype '{name}'", hint="use float32, bfloat16, float16 or auto")
    return getattr(torch, canonical)


def pick_device(device: str | None) -> str:
    """``None`` -> the first GPU if there is one, else CPU; checks an explicit choice exists."""
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    text = str(device).lower()
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(
                f"device '{device}' asked for, but CUDA is not available here",
                hint="use device=cpu or run on a machine with a GPU",
            )
        _, _, index = text.partition(":")
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise ModelError(
                f"device '{device}' does not exist",
                hint=f"this machine has {torch.cuda.device_count()} GPU(s)",
            )
        return text
    if text in ("cpu", "mps"):
        return text
    raise ModelError(f"unknown device '{device}'", hint="use cpu, cuda or cuda:N")


def _looks_like_path(name: str) -> bool:
    """A hub id is ``name`` or ``org/name``; anything else is meant as a directory."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def resolve_local_dir(pretrained: str | Path, revision: str | None = None) -> Path | None:
    """The directory holding ``pretrained``: itself, or a hub id's cached snapshot, or None."""
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


def load_pretrained(
    cls: Any,
    path: str | Path,
    *,
    dtype: Any = "auto",
    device: str | None = None,
    revision: str | None = None,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    attn_implementation: str | None = None,
) -> Any:
    """``cls.from_pretrained`` after the safety checks; the model in eval mode on ``device``."""
    local = resolve_local_dir(path, revision)
    if local is not None:
        check_checkpoint_dir(local, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    kwargs: dict[str, Any] = {"dtype": parse_dtype(dtype), "trust_remote_code": trust_remote_code}
    if revision:
        kwargs["revision"] = revision
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if not allow_pickle:
        kwargs["use_safetensors"] = True
    from safetensors import SafetensorError

    try:
        model = cls.from_pretrained(str(local or path), **kwargs)
    except SafetensorError as exc:
        raise ModelError(
            f"cannot read the weights of '{path}' ({exc})",
            where=str(local or path),
            hint="the file is damaged or incomplete (interrupted download?); download it again",
        ) from None
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"cannot load '{path}': {first}",
            hint="check the path/hub id, revision and network access",
        ) from None
    return model.to(pick_device(device)).eval()


def load_config(
    path: str | Path,
    *,
    revision: str | None = None,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
) -> Any:
    """The checkpoint's config after the same safety checks as the weights, weights unread.

    Adapters build from this and load the weights on first use, so building
    one to fingerprint it (or to plan a sweep over dozens of checkpoints) costs
    no memory, and a bad checkpoint directory is still refused at once.
    """
    from transformers import AutoConfig

    local = resolve_local_dir(path, revision)
    if local is not None:
        check_checkpoint_dir(local, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if revision:
        kwargs["revision"] = revision
    try:
        return AutoConfig.from_pretrained(str(local or path), **kwargs)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"cannot load the config of '{path}': {first}",
            hint="check the path/hub id, revision and network access",
        ) from None


def dtype_name(dtype: Any, config: Any) -> str:
    """The dtype the weights will have: the one asked for, or the config's for ``auto``."""
    parsed = parse_dtype(dtype)
    if parsed == "auto":
        text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
        parsed = getattr(text_config, "dtype", None) or getattr(config, "dtype", None)
        parsed = parsed or getattr(config, "torch_dtype", None) or "float32"
    return str(parsed).removeprefix("torch.")


class LazyModel:
    """``load_pretrained`` deferred to the first ``get()``, then kept."""

    def __init__(self, cls: Any, path: str | Path, **kwargs: Any):
        self.cls = cls
        self.path = path
        self.kwargs = kwargs
        self._model: Any = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self) -> Any:
        if self._model is None:
            self._model = load_pretrained(self.cls, self.path, **self.kwargs)
        return self._model


def load_preprocessor(
    cls: Any,
    path: str | Path,
    *,
    revision: str | None = None,
    trust_remote_code: bool = False,
    **kwargs: Any,
) -> Any:
    """A tokenizer/processor/feature extractor with the same remote-code rule as the model."""
    local = resolve_local_dir(path, revision)
    if local is not None:
        needs_code(local, trust_remote_code)
    if revision:
        kwargs["revision"] = revision
    try:
        return cls.from_pretrained(
            str(local or path), trust_remote_code=trust_remote_code, **kwargs
        )
    except ImportError as exc:  # e.g. Granite Speech's feature extractor without torchaudio
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"cannot build the processor of '{path}': {first}",
            hint="install the package it names (see docs/models.md for each family's needs)",
        ) from None
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"cannot load the tokenizer/processor of '{path}': {first}",
            hint="save it next to the weights with save_pretrained",
        ) from None


def model_max_length(model: Any, tokenizer: Any = None) -> int | None:
    """The longest input the model was built for: its config, else its tokenizer, else None."""
    config = getattr(model, "config", None)
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    for key in MAX_LENGTH_KEYS:
        value = getattr(text_config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 10**9 else None  # 1e30 means unset


def _head_tail_digest(path: Path) -> str:
    """sha256 of a file's size, first MiB and last MiB: cheap for multi-GB weights."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    digest.update(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(MIB))
        if size > 2 * MIB:
            handle.seek(size - MIB)
            digest.update(handle.read(MIB))
        elif size > MIB:
            digest.update(handle.read())
    return digest.hexdigest()


def weights_fingerprint(path: str | Path | None) -> dict[str, Any]:
    """Content hash of a checkpoint: config/tokenizer bytes + weights' size, head and tail.

    Retraining into the same directory changes the hash, so cached scores of
    the old weights are never reused for the new ones.
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
        weights.update(file.name.encode() + b"\0" + _head_tail_digest(file).encode())
    return {
        "config_sha256": small.hexdigest()[:20],
        "weights_sha256": weights.hexdigest()[:20] if files else None,
        "weight_files": len(files),
    }
