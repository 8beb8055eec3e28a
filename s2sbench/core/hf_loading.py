"""Loading Hugging Face checkpoints: configs, weights on first use, processors.

Shared by every ``transformers`` adapter through :class:`LoadOptions`; each load
runs the directory checks of :mod:`s2sbench.core.checkpoint_files` first (remote
code, pickle-only weights, missing files), so all adapters refuse the same things
the same way. The dtype and device are parsed by :mod:`s2sbench.core.model_settings`.

torch and transformers are imported inside the functions: importing this
module must stay cheap (the CLI imports adapters lazily, but tests and plugins
may import helpers directly).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from s2sbench.core.checkpoint_files import check_checkpoint_dir, needs_code, resolve_local_dir
from s2sbench.core.errors import ModelError
from s2sbench.core.model_settings import parse_dtype, pick_device
from s2sbench.core.progress import stage
from s2sbench.core.weight_check import check_loading_info, quiet_load_report


def first_line(exc: BaseException) -> str:
    """An exception's first message line (library messages can run to pages), else its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
    allow_weight_mismatch: bool = False,
    label: str | None = None,
) -> Any:
    """``cls.from_pretrained`` after the safety checks; the model in eval mode on ``device``.

    ``label`` names the model in the progress line (default: the folder's name; a GGUF's
    converted copy is a folder named by a hash, so its adapter passes the user's name).

    Weights that do not fit the config (missing, unexpected, another shape) are one
    :class:`ModelError` unless ``allow_weight_mismatch`` (see :func:`check_loading_info`).
    """
    local = resolve_local_dir(path, revision)
    if local is not None:
        check_checkpoint_dir(local, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    kwargs: dict[str, Any] = {
        "dtype": parse_dtype(dtype),
        "trust_remote_code": trust_remote_code,
        "output_loading_info": True,
        "ignore_mismatched_sizes": True,  # reported below as one line, not raised as a table
    }
    if revision:
        kwargs["revision"] = revision
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if not allow_pickle:
        kwargs["use_safetensors"] = True
    from safetensors import SafetensorError

    try:
        name = label or Path(str(path)).name
        with quiet_load_report(), stage(f"loading {name}", quiet_libraries=True):
            model, info = cls.from_pretrained(str(local or path), **kwargs)
    except SafetensorError as exc:
        raise ModelError(
            f"cannot read the weights of '{path}' ({exc})",
            where=str(local or path),
            hint="the file is damaged or incomplete (interrupted download?); download it again",
        ) from None
    except (OSError, ValueError) as exc:
        first = first_line(exc)
        raise ModelError(
            f"cannot load '{path}': {first}",
            hint="check the path/hub id, revision and network access",
        ) from None
    check_loading_info(info, str(local or path), allow_weight_mismatch)
    return model.to(pick_device(device)).eval()


def load_config(
    path: str | Path,
    *,
    revision: str | None = None,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
) -> Any:
    """The checkpoint's config after the same safety checks as the weights, weights unread
    (adapters build from it and load the weights on first use: see :class:`LoadOptions`)."""
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
        first = first_line(exc)
        raise ModelError(
            f"cannot load the config of '{path}': {first}",
            hint="check the path/hub id, revision and network access",
        ) from None


class LazyModel:
    """``load_pretrained`` deferred to the first ``get()``, then kept; ``on_load(model)`` runs
    once, right after the load (an adapter's checks and what it derives from the weights)."""

    def __init__(self, cls: Any, options: LoadOptions, on_load: Any = None):
        self.cls = cls
        self.options = options
        self.on_load = on_load
        self._model: Any = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self) -> Any:
        if self._model is None:
            model = self.options.load(self.cls)
            if self.on_load is not None:
                self.on_load(model)
            self._model = model
        return self._model


SET_BY_ADAPTER = {"set_by_adapter": True}  # a LoadOptions field that is no model arg


@dataclass(frozen=True)
class LoadOptions:
    """How one ``transformers`` checkpoint is read, for every adapter and plugin alike.

    The one loading policy is *lazy*: :meth:`config` and the preprocessor are read
    when an adapter is built (so a bad directory, a refused gate or a wrong family
    fails at once), the weights on first use (:meth:`lazy`). Building an adapter to
    fingerprint it, to plan a sweep over many checkpoints, or for a run whose scores
    are all in the store then costs no weights in memory, and every adapter behaves
    the same way for all of these.

    Every field but the two marked ``SET_BY_ADAPTER`` is a keyword argument of every
    adapter (:data:`LOAD_ARGS`; ``TransformersAdapter`` adds them to each signature), so
    a new load option is one field here.
    """

    pretrained: str = field(metadata=SET_BY_ADAPTER)  # each adapter names its own checkpoint(s)
    revision: str | None = None
    dtype: Any = "auto"
    device: str | None = None
    attn_implementation: str | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False
    allow_weight_mismatch: bool = False
    # the progress line's name (a GGUF's converted folder is a hash)
    label: str | None = field(default=None, metadata=SET_BY_ADAPTER)

    def config(self) -> Any:
        """The checkpoint's config, after the directory checks; weights unread."""
        return load_config(
            self.pretrained,
            revision=self.revision,
            trust_remote_code=self.trust_remote_code,
            allow_pickle=self.allow_pickle,
        )

    def load(self, cls: Any) -> Any:
        """``cls.from_pretrained`` now, through :func:`load_pretrained`'s checks."""
        return load_pretrained(
            cls,
            self.pretrained,
            dtype=self.dtype,
            device=self.device,
            revision=self.revision,
            trust_remote_code=self.trust_remote_code,
            allow_pickle=self.allow_pickle,
            attn_implementation=self.attn_implementation,
            allow_weight_mismatch=self.allow_weight_mismatch,
            label=self.label,
        )

    def lazy(self, cls: Any, on_load: Any = None) -> LazyModel:
        """The weights of ``cls``, loaded on the first ``get()`` (the one policy, see above)."""
        return LazyModel(cls, self, on_load)

    def preprocessor(self, cls: Any, **kwargs: Any) -> Any:
        """The checkpoint's tokenizer or processor, under the same remote-code rule."""
        return load_preprocessor(
            cls,
            self.pretrained,
            revision=self.revision,
            trust_remote_code=self.trust_remote_code,
            **kwargs,
        )

    def local_dir(self) -> Path | None:
        return resolve_local_dir(self.pretrained, self.revision)


LOAD_ARGS = tuple(f.name for f in fields(LoadOptions) if not f.metadata.get("set_by_adapter"))


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
        first = first_line(exc)
        raise ModelError(
            f"cannot build the processor of '{path}': {first}",
            hint="install the package it names (see docs/models.md for each family's needs)",
        ) from None
    except (OSError, ValueError) as exc:
        first = first_line(exc)
        raise ModelError(
            f"cannot load the tokenizer/processor of '{path}': {first}",
            hint="save it next to the weights with save_pretrained",
        ) from None
