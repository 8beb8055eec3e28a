"""Everything a model plugin needs, from one public module.

A plugin is a class named as ``module:object`` on the command line (see
docs/plugins.md and docs/plugin_example.py). It imports its types and errors
from here, not from s2sbench's internal modules, so the internal layout can
change without breaking plugins::

    from s2sbench.plugin import Condition, ConfigError, ContextRequest, ContinuationScore
"""

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import ConfigError, DataError, ModelError, S2SBenchError
from s2sbench.core.scoring import ContinuationScore, ScoringModel

__all__ = [
    "Condition",
    "ConfigError",
    "ContextRequest",
    "ContinuationScore",
    "DataError",
    "ModelError",
    "S2SBenchError",
    "ScoringModel",
]
