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
passes ``**kwargs`` on to ``super().__init__`` loses none; a value a level passes on
explicitly beats an outer level's default).

The load arguments (``dtype``, ``device``, ``revision``, ``attn_implementation`` and the
gates: every :data:`~s2sbench.core.hf_loading.LOAD_ARGS`) are declared once, by
``LoadOptions``' fields: the wrapper adds those of ``load_args`` that a family's
``__init__`` does not name to its signature as keyword-only parameters, records them and
keeps them out of the call; :meth:`load_options` builds the family's ``LoadOptions`` from
them. So a family's signature lists only its own parameters, while ``inspect.signature``
(which the registry reads to check ``--model-args`` keys and parse booleans) and the
fingerprint still see every load argument. A family that takes only some lists them in
``load_args`` (``hf-cascade``: two checkpoints, so no ``revision``); a value the family
decides itself goes to :meth:`load_options` (``hf``: a GGUF's ``label``). Weights load
through that ``LoadOptions`` on first use (its docstring says why).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from typing import Any, ClassVar

from s2sbench.core.checkpoint_files import weights_fingerprint
from s2sbench.core.hf_loading import LOAD_ARGS, LazyModel, LoadOptions

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


def _load_parameters() -> dict[str, inspect.Parameter]:
    """Each load argument as a keyword-only parameter: ``LoadOptions``' type and default."""
    hints = typing.get_type_hints(LoadOptions)
    return {
        f.name: inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name]
        )
        for f in dataclasses.fields(LoadOptions)
        if f.name in LOAD_ARGS
    }


LOAD_PARAMETERS = _load_parameters()
VARIADIC = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)


def _with_load_args(init: Any, load_args: tuple[str, ...]) -> tuple[inspect.Signature, set[str]]:
    """``init``'s signature plus the load arguments it does not name (before ``**kwargs``)."""
    own = inspect.signature(init)
    params = list(own.parameters.values())
    added = [LOAD_PARAMETERS[n] for n in load_args if n not in own.parameters]
    var_kw = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    rest = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return own.replace(parameters=[*rest, *added, *var_kw]), {p.name for p in added}


def _recording(init: Any, load_args: tuple[str, ...]) -> Any:
    signature, added = _with_load_args(init, load_args)
    named = [
        (name, p.default)
        for name, p in list(signature.parameters.items())[1:]
        if p.kind not in VARIADIC
    ]

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            pass  # the call below raises Python's own message
        else:
            # every level records its named parameters: the outermost value given wins,
            # then a value an inner level is given (a family fixing it), then the default
            arguments = self.__dict__.setdefault("arguments", {})
            defaults = self.__dict__.setdefault("defaults", {})
            given = self.__dict__.setdefault("_given", set())
            for name, default in named:
                if name in bound.arguments and name not in given:
                    given.add(name)
                    arguments[name] = bound.arguments[name]
                else:
                    arguments.setdefault(name, default)
                if default is not inspect.Parameter.empty:
                    defaults.setdefault(name, default)
        init(self, *args, **{k: v for k, v in kwargs.items() if k not in added})

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    # a new dict: wraps() shares init's, and typing.get_type_hints reads this one
    __init__.__annotations__ = {
        **init.__annotations__,
        **{name: LOAD_PARAMETERS[name].annotation for name in added},
    }
    return __init__


class TransformersAdapter:
    """Base of ``hf``, ``hf-audio``, ``hf-cascade``, ``unit-lm`` and the remote-code plugins."""

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    conditions: ClassVar[tuple[str, ...]] = ()
    languages: ClassVar[str] = "any"
    non_score_args: ClassVar[frozenset[str]] = NON_SCORE_ARGS
    identified_args: ClassVar[frozenset[str]] = LOADED_ARGS
    # the LoadOptions keywords this family takes (all of them unless it says otherwise)
    load_args: ClassVar[tuple[str, ...]] = LOAD_ARGS
    arguments: dict[str, Any]
    defaults: dict[str, Any]
    options: LoadOptions
    weights: LazyModel

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            init = _recording(cls.__dict__["__init__"], cls.load_args)
            cls.__init__ = init  # type: ignore[method-assign]

    def load_options(self, pretrained: Any, **fixed: Any) -> LoadOptions:
        """``self.options``: the recorded load arguments for ``pretrained``, with ``fixed``
        the values the family itself decides (a GGUF's ``label``, say) on top.

        A fixed value must not be one the family also takes (``load_args``): the user's
        value would be recorded and fingerprinted, and not the one loaded.
        """
        taken = sorted(set(fixed) & set(self.load_args))
        if taken:
            raise TypeError(f"{type(self).__name__} fixes {taken}: leave them out of load_args")
        self.options = LoadOptions(pretrained, **{**self.load_arguments(), **fixed})
        return self.options

    def load_arguments(self) -> dict[str, Any]:
        """The recorded load arguments, for a family that hands them on (``hf-cascade``)."""
        recorded = getattr(self, "arguments", {})
        return {name: recorded[name] for name in self.load_args if name in recorded}

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
