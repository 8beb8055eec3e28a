"""s2sbench: how much does a speech LM lose when it hears the context instead of reading it?

The pipeline, one package per stage::

    data -> tasks -> requests -> models -> scores -> metrics -> reports

``s2sbench.evaluate(...)`` runs it end to end. Importing this package is
cheap: torch and transformers load only when an adapter that needs them is
built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from s2sbench.core.version import __version__

if TYPE_CHECKING:
    from s2sbench.core.run_config import ExecutionOptions, RunConfig
    from s2sbench.evaluator import EvalResult, evaluate

__all__ = ["EvalResult", "ExecutionOptions", "RunConfig", "__version__", "evaluate"]


def __getattr__(name: str) -> Any:
    if name in ("evaluate", "EvalResult"):
        from s2sbench import evaluator

        return getattr(evaluator, name)
    if name in ("RunConfig", "ExecutionOptions"):
        from s2sbench.core import run_config

        return getattr(run_config, name)
    raise AttributeError(name)
