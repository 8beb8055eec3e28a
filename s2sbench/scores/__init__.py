"""Stage 5 -- scores: the append-only, content-keyed store of raw per-continuation numbers."""

from s2sbench.scores.store import ScoreRecord, ScoreStore, model_id

__all__ = ["ScoreRecord", "ScoreStore", "model_id"]
