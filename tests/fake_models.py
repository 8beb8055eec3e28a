"""Small deterministic scoring models for tests of the pipeline around the model."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from s2sbench.core.conditions import Condition
from s2sbench.core.context_request import ContextRequest
from s2sbench.core.scoring import ContinuationScore


class HashModel:
    """Scores each continuation by a hash of (salt, context, continuation): fast, deterministic.

    ``calls`` counts scored requests, so tests can see what a rerun recomputes.
    """

    name = "hash"

    def __init__(self, salt: str = "a", fail_after: int | None = None, **_: Any):
        self.salt = salt
        self.fail_after = fail_after
        self.calls = 0

    def fingerprint(self) -> dict[str, Any]:
        return {"adapter": "hash", "salt": self.salt}

    def unsupported_reason(self, condition: Condition, lang: str) -> str | None:
        return None if condition == Condition.T2T else "text only"

    def score(
        self, requests: Sequence[ContextRequest]
    ) -> Iterator[tuple[int, list[ContinuationScore]]]:
        for index, request in enumerate(requests):
            if self.fail_after is not None and self.calls >= self.fail_after:
                raise KeyboardInterrupt
            self.calls += 1
            scores = []
            for cont in request.continuations:
                digest = hashlib.sha256(
                    f"{self.salt}|{request.text_context}|{cont}".encode()
                ).digest()
                scores.append(ContinuationScore(-(1 + digest[0] / 25.5), 1 + digest[1] % 5))
            yield index, scores
