"""The public home of s2sbench's errors (they live in :mod:`s2sbench.core.errors`).

``from s2sbench.errors import ConfigError`` keeps working for users and plugins;
code inside s2sbench imports :mod:`s2sbench.core.errors`.
"""

from s2sbench.core.errors import (
    ConfigError,
    DataError,
    ModelError,
    S2SBenchError,
    StoreError,
)

__all__ = ["ConfigError", "DataError", "ModelError", "S2SBenchError", "StoreError"]
