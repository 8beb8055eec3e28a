"""What every ``transformers`` adapter shares: recorded arguments, loading, fingerprint, data.

A model family is a subclass that says what it *is* as class data and only what
differs as code:

* ``conditions`` / ``languages`` / ``summary``: what it can score, as data (the README
  model table is generated from these: :mod:`s2sbench.models.model_table`);
* ``non_score_args``: constructor arguments that cannot change a score (batch size,
  device, padding side, safety gates...), left out of the fingerprint;
* ``identified_args``: arguments the fingerprint already names in a resolved form
  (``pretrained`` by the weights' hash, a speech tokenizer by its own fingerprint);
* :meth:`fingerprint_facts`: what is derived from the checkpoint (weights hash, the
  resolved dtype, the tokenizer's special tokens...).

The fingerprint is those facts plus every other constructor argument that is not
at its default. So a new score-changing argument is in the fingerprint without any
fingerprint code, and a store written before the argument existed (when everyone
ran its default) keeps its key.

Arguments are recorded by a wrapper :meth:`__init_subclass__` puts around each
subclass's ``__init__`` (each level records its named parameters, so a subclass that
passes ``**kwargs`` on to ``super().__init__`` loses none; ``inspect.signature`` still
sees the original parameters, which the registry reads). Weights load through one
:class:`~s2sbench.core.hf_loading.LoadOptions` on first use (its docstring says why).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, ClassVar

from s2sbench.core.checkpoint_files import weights_fingerprint
from s2sbench.core.hf_loading import LazyModel, LoadOptions

NON_SCORE_ARGS = frozenset(
    {
        "batch_size",
        "max_batch_size",
        "device",
        "padding_side",  # scores never depend on padding (tested per adapter)
        "reuse_context",  # shared-context and full-sequence scoring agree (tested)
        "trust_remote_code",
        "allow_pickle",
        "allow_weight_mismatch",
        "progress",
    }
)
LOADED_ARGS = frozenset({"pretrained", "revision", "dtype"})


def _recording(init: Any) -> Any:
    signature = inspect.signature(init)
    named = [
        (name, p.default)
        for name, p in list(signature.parameters.items())[1:]
        if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    ]

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            pass  # the call below raises Python's own message
        else:
            # every level records its named parameters; the outermost call's values win
            arguments = self.__dict__.setdefault("arguments", {})
            defaults = self.__dict__.setdefault("defaults", {})
            for name, default in named:
                arguments.setdefault(name, bound.arguments.get(name, default))
                if default is not inspect.Parameter.empty:
                    defaults.setdefault(name, default)
        init(self, *args, **kwargs)

    return __init__


class TransformersAdapter:
    """Base of ``hf``, ``hf-audio``, ``hf-cascade``, ``unit-lm`` and the remote-code plugins."""

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    conditions: ClassVar[tuple[str, ...]] = ()
    languages: ClassVar[str] = "any"
    non_score_args: ClassVar[frozenset[str]] = NON_SCORE_ARGS
    identified_args: ClassVar[frozenset[str]] = LOADED_ARGS
    arguments: dict[str, Any]
    defaults: dict[str, Any]
    options: LoadOptions
    weights: LazyModel

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording(cls.__dict__["__init__"])  # type: ignore[method-assign]

    @property
    def model(self) -> Any:
        """The weights, loaded on first use (see ``LoadOptions``)."""
        return self.weights.get()

    def fingerprint_facts(self) -> dict[str, Any]:
        """What identifies the checkpoint as read: resolved path, revision, weights' hash."""
        local = self.options.local_dir()
        return {
            "pretrained": str(local or self.options.pretrained),
            "revision": self.options.revision,
            **weights_fingerprint(local),
        }

    def argument_fingerprint(self) -> dict[str, Any]:
        """Recorded arguments that may change scores and are not at their default."""
        skip = self.non_score_args | self.identified_args
        recorded = getattr(self, "arguments", {})
        defaults = getattr(self, "defaults", {})
        return {
            name: value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
            for name, value in recorded.items()
            if name not in skip and (name not in defaults or value != defaults[name])
        }

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": self.name, **self.argument_fingerprint(), **self.fingerprint_facts()}
