"""GGUF checkpoints for the ``hf`` adapter: converted once, then loaded like any directory.

transformers reads a GGUF file with ``from_pretrained(dir, gguf_file=name)``, dequantizing
every tensor to float32 and rebuilding the tokenizer from the file's metadata: about 70 s
for Gemma 3 270M, each time. It refuses ``save_pretrained`` on such a model, so the
conversion copies its ``state_dict`` into a plain ``from_config`` model (the config without
its ``quantization_config``) and saves that, with the tokenizer, as an ordinary safetensors
checkpoint in the s2sbench cache under the GGUF's sha256. Later loads find it by that hash
and take seconds. The entry is written to a temp folder and renamed into place, so a
killed conversion never leaves half a cache entry, and two runs converting at once both
end up reading one complete entry.

``pretrained`` names a GGUF as ``FILE.gguf``, ``DIR`` + ``gguf_file=NAME``, or a bundled
model (``bundled:gemma3-270m``, see :mod:`s2sbench.models.bundled`). The fingerprint
names it by its sha256, so the cache of scores follows the file's bytes.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path
from typing import Any

from s2sbench.core.checkpoint_files import resolve_local_dir
from s2sbench.core.errors import ModelError
from s2sbench.core.file_hashes import file_sha256
from s2sbench.core.paths import cache_root
from s2sbench.core.progress import stage
from s2sbench.models.bundled import BUNDLED_PREFIX, bundled_gguf

log = logging.getLogger(__name__)

MAGIC = b"GGUF"


def gguf_path(pretrained: Any, gguf_file: str | None) -> Path | None:
    """The GGUF file ``pretrained`` (+ ``gguf_file``) names, or None for an ordinary checkpoint."""
    text = str(pretrained) if isinstance(pretrained, (str, Path)) else ""
    if text.startswith(BUNDLED_PREFIX):
        if gguf_file:
            raise ModelError(f"pretrained={text} is a bundled model; drop gguf_file=")
        return bundled_gguf(text[len(BUNDLED_PREFIX) :])
    if gguf_file:
        path = Path(text).expanduser() / str(gguf_file)
    elif text.lower().endswith(".gguf"):
        path = Path(text).expanduser()
    else:
        return None
    if not path.is_file():
        raise ModelError(
            f"GGUF file {path} not found" if not path.exists() else f"{path} is not a file",
            hint="check pretrained= (FILE.gguf, or DIR with gguf_file=NAME)",
        )
    with path.open("rb") as handle:
        if handle.read(4) != MAGIC:
            raise ModelError(
                f"{path} is not a GGUF file (it does not start with 'GGUF')",
                hint="the file is damaged or of another format; download it again",
            )
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_dead_temps(root: Path, sha: str) -> None:
    """Temp folders of conversions on this host whose process is gone (killed half-way)."""
    host = socket.gethostname()
    for tmp in root.glob(f".{sha}.{host}.*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _convert(path: Path, out: Path) -> None:
    """Dequantize ``path`` with transformers and save it as a float32 safetensors checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = {"pretrained_model_name_or_path": str(path.parent), "gguf_file": path.name}
    try:
        import transformers.modeling_gguf_pytorch_utils  # noqa: F401 -- its bar, quieted below

        with stage(f"converting {path.name} (GGUF, once)", quiet_libraries=True):
            tokenizer = AutoTokenizer.from_pretrained(**source)
            model = AutoModelForCausalLM.from_pretrained(**source, dtype=torch.float32)
    except ImportError as exc:
        raise ModelError(
            f"cannot read GGUF files here ({str(exc).splitlines()[0]})",
            hint="pip install 's2sbench[hf]' (it includes gguf and accelerate)",
        ) from None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"transformers cannot load {path.name}: {first}",
            where=str(path),
            hint="only architectures transformers reads from GGUF can be scored this way",
        ) from None
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(model.state_dict(), strict=True)
    plain.generation_config = model.generation_config
    del model
    plain.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def converted_checkpoint(path: Path) -> tuple[Path, str]:
    """(the cached safetensors checkpoint of GGUF ``path``, the GGUF's sha256); converts once."""
    sha = file_sha256(path)
    root = cache_root() / "gguf"
    final = root / sha
    if (final / "config.json").is_file():
        return final, sha
    tmp = root / f".{sha}.{socket.gethostname()}.{os.getpid()}.tmp"
    log.warning(
        "s2sbench: converting %s (GGUF) to a float32 checkpoint once, about 70 s for a 270M "
        "model; later runs load it from %s",
        path.name,
        final,
    )
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_dead_temps(root, sha)
        shutil.rmtree(tmp, ignore_errors=True)
        _convert(path, tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "config.json").is_file():  # not a concurrent run's finished copy
                raise
    except OSError as exc:
        raise ModelError(
            f"cannot write the converted checkpoint of {path.name} to {root} "
            f"({exc.strerror or exc})",
            hint="free disk space (about 4 bytes per parameter) or point S2SBENCH_CACHE "
            "at a writable folder",
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final, sha


def resolve_pretrained(
    pretrained: Any, gguf_file: str | None, revision: str | None
) -> tuple[Any, dict[str, Any]]:
    """(what ``from_pretrained`` loads, how the fingerprint names it): a GGUF becomes its
    converted checkpoint, named by its own path (or bundled name) and sha256."""
    gguf = gguf_path(pretrained, gguf_file)
    if gguf is None:
        local = resolve_local_dir(pretrained, revision)
        name = str(local.resolve()) if local is not None else str(pretrained)
        return pretrained, {"pretrained": name}
    directory, sha = converted_checkpoint(gguf)
    text = str(pretrained)
    name = text if text.startswith(BUNDLED_PREFIX) else str(gguf.resolve())
    return directory, {"pretrained": name, "gguf_sha256": sha}
