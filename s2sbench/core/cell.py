"""One (task, condition) of an evaluation: its requests and, once scored, their records.

The evaluator builds cells, the metrics compare them (``metrics.degradation``)
and the reports write them out, so the type lives in the core layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.item import Task
from s2sbench.core.score_record import ScoreRecord


@dataclass
class Cell:
    """One (task, condition): its requests and, once scored, their stored records."""

    task: Task
    condition: Condition
    requests: list[ContextRequest] = field(default_factory=list)
    records: list[ScoreRecord] = field(default_factory=list)
