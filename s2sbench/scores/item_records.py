"""Putting an item back together from the records of its requests.

Metrics pair continuations *per item* (right vs wrong ending, answer vs each
distractor). Usually one request carries all of an item's continuations.
When they hear different context audio (a story pair whose two wavs differ,
as the reference scores every row after its own ``<uttid>.wav``), the item
is split into one request per distinct audio, each record holding a
``part`` of its continuations; here they are merged by continuation index,
so the result does not depend on the order the parts were scored or stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from s2sbench.core.context_request import ContextRequest
from s2sbench.core.errors import StoreError
from s2sbench.scores.store import ScoreRecord


def merge_parts(records: Sequence[ScoreRecord]) -> ScoreRecord:
    """One whole-item record from the records of its parts (any order)."""
    if len(records) == 1 and records[0].part is None:
        return records[0]
    slots: dict[int, tuple[ScoreRecord, int]] = {}
    for record in records:
        if record.part is None or len(record.part) != len(record.scores):
            raise StoreError(
                f"record of item {record.item_id} is not a part of a split item",
                where=f"task {record.task}, condition {record.condition}",
                hint="the score store mixes runs of different data; use a fresh --output-path",
            )
        for local, index in enumerate(record.part):
            if index in slots:
                raise StoreError(
                    f"continuation {index} of item {record.item_id} is scored twice",
                    where=f"task {record.task}, condition {record.condition}",
                    hint="the score store mixes runs of different data; use a fresh --output-path",
                )
            slots[index] = (record, local)
    first = records[0]
    if sorted(slots) != list(range(len(slots))):
        raise StoreError(
            f"item {first.item_id} has continuations {sorted(slots)}, not 0..{len(slots) - 1}",
            where=f"task {first.task}, condition {first.condition}",
            hint="rerun with the same --output-path to finish it",
        )
    ordered = [slots[i] for i in range(len(slots))]
    return ScoreRecord(
        task=first.task,
        condition=first.condition,
        item_id=first.item_id,
        gold=first.gold,
        scores=tuple(r.scores[j] for r, j in ordered),
        n_chars=tuple(r.n_chars[j] for r, j in ordered),
        n_bytes=tuple(r.n_bytes[j] for r, j in ordered),
    )


def item_records(
    requests: Sequence[ContextRequest], lookup: Callable[[str], ScoreRecord | None]
) -> list[ScoreRecord | None]:
    """Per item (in the order its first request comes), its whole record; ``None`` if any
    of its requests is not scored yet."""
    by_item: dict[str, list[ContextRequest]] = {}
    for request in requests:
        by_item.setdefault(request.item_id, []).append(request)
    out: list[ScoreRecord | None] = []
    for item_requests in by_item.values():
        found = [lookup(r.key) for r in item_requests]
        if any(record is None for record in found):
            out.append(None)
        else:
            out.append(merge_parts(found))  # type: ignore[arg-type]
    return out
