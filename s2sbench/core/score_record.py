"""The stored numbers of one scored request: what metrics, reports and sample logs read.

Written and read back by the score store (``s2sbench.scores``), consumed by the
metrics and the reports, so it lives in the core layer that all of them may import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore


@dataclass(frozen=True)
class ScoreRecord:
    """The stored numbers of one request: what metrics and sample logs are built from."""

    task: str
    condition: str
    item_id: str
    gold: int
    scores: tuple[ContinuationScore, ...]
    n_chars: tuple[int, ...]
    n_bytes: tuple[int, ...]
    part: tuple[int, ...] | None = None  # the item's continuations this record holds; None: all

    @property
    def losses(self) -> list[float]:
        return [s.loss for s in self.scores]

    @staticmethod
    def from_request(request: ContextRequest, scores: list[ContinuationScore]) -> ScoreRecord:
        return ScoreRecord(
            task=request.task,
            condition=request.condition.value,
            item_id=request.item_id,
            gold=request.gold,
            scores=tuple(scores),
            n_chars=tuple(len(c) for c in request.continuations),
            n_bytes=tuple(len(c.encode("utf-8")) for c in request.continuations),
            part=request.part,
        )

    def to_json(self) -> dict[str, Any]:
        part = {} if self.part is None else {"part": list(self.part)}
        return {
            "task": self.task,
            "condition": self.condition,
            "item_id": self.item_id,
            "gold": self.gold,
            "scores": [
                {"logprob_sum": s.logprob_sum, "n_tokens": s.n_tokens, "extra": dict(s.extra)}
                for s in self.scores
            ],
            "n_chars": list(self.n_chars),
            "n_bytes": list(self.n_bytes),
            **part,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ScoreRecord:
        return ScoreRecord(
            task=data["task"],
            condition=data["condition"],
            item_id=data["item_id"],
            gold=int(data["gold"]),
            scores=tuple(
                ContinuationScore(float(s["logprob_sum"]), int(s["n_tokens"]), s.get("extra", {}))
                for s in data["scores"]
            ),
            n_chars=tuple(data["n_chars"]),
            n_bytes=tuple(data["n_bytes"]),
            part=None if data.get("part") is None else tuple(int(i) for i in data["part"]),
        )
