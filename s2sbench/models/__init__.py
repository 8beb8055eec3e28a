"""Stage 4 -- models: one small adapter per model family behind one interface.

Adapters turn :class:`~s2sbench.requests.ContextRequest` objects into raw
per-continuation log-probability sums and token counts. They never compute
metrics. Heavy libraries (torch, transformers) are imported only by the
adapters that need them, when they are built.
"""

from s2sbench.core.scoring import ContinuationScore, ScoringModel
from s2sbench.models.registry import MODEL_REGISTRY, get_model, parse_model_args

__all__ = ["MODEL_REGISTRY", "ContinuationScore", "ScoringModel", "get_model", "parse_model_args"]
