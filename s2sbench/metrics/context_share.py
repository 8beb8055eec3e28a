"""How much of the degradation is the context's: (T2T - S2T) / (T2T - none), with its CI.

T2T - none is what reading the context adds over the continuation alone (the context
gain); T2T - S2T is what hearing it instead loses (the degradation). Their ratio, the
*context-driven share of the degradation*, says what fraction of the context's benefit
is lost by hearing: 0 means hearing keeps all of it, 1 means hearing is no better than no
context at all; it can leave [0, 1] (below 0: heard beats read; above 1: the heard
context misleads more than no context).

The share is undefined (``None`` with a reason) unless the context clearly helps: the
95% paired bootstrap CI of T2T - none must lie above 0 **and** its point estimate be at
least :data:`MIN_CONTEXT_GAIN` (1 accuracy point). Below that, the denominator is noise
and the ratio could take any value. Both tests use the same items and the same seeded
resamples (:mod:`s2sbench.metrics.paired_stats`), so when the share is defined at most
about 2.5% of the resamples have a non-positive denominator; those are left out of the
share's CI and counted in ``n_boot_undefined``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from s2sbench.metrics.accuracy import item_correct
from s2sbench.metrics.paired_stats import paired_bootstrap, paired_ratio_bootstrap

if TYPE_CHECKING:
    from s2sbench.scores.store import ScoreRecord

MIN_CONTEXT_GAIN = 0.01  # one accuracy point
RULE = (
    "defined when the 95% paired bootstrap CI of T2T - none lies above 0 and T2T - none "
    "is at least 1 point"
)


def context_share(
    read: Sequence[ScoreRecord],
    heard: Sequence[ScoreRecord],
    none: Sequence[ScoreRecord],
    kind: str,
    *,
    seed: int = 1234,
    n_boot: int = 2000,
    level: float = 0.95,
) -> dict[str, Any]:
    """The share on the items scored under all three conditions (item scores as the gap's)."""
    by_heard = {r.item_id: r for r in heard}
    by_none = {r.item_id: r for r in none}
    triples = [
        (r, by_heard[r.item_id], by_none[r.item_id])
        for r in read
        if r.item_id in by_heard and r.item_id in by_none
    ]
    out: dict[str, Any] = {"n_items": len(triples), "rule": RULE}
    if not triples:
        return {**out, "share": None, "undefined_reason": "no item was scored in all three"}
    t2t, s2t, ctx_free = (
        [item_correct(rec.losses, rec.gold, kind) for rec in column] for column in zip(*triples)
    )
    gain = paired_bootstrap(t2t, ctx_free, n_boot=n_boot, level=level, seed=seed)
    out.update(
        acc_t2t=sum(t2t) / len(t2t),
        acc_s2t=sum(s2t) / len(s2t),
        acc_none=sum(ctx_free) / len(ctx_free),
        context_gain=gain.diff,
        context_gain_ci_low=gain.low,
        context_gain_ci_high=gain.high,
        ci_level=level,
        n_boot=n_boot,
        seed=seed,
    )
    reason = undefined_reason(gain.diff, gain.low, gain.high)
    if reason is not None:
        return {**out, "share": None, "ci_low": None, "ci_high": None, "undefined_reason": reason}
    ratio = paired_ratio_bootstrap(t2t, s2t, ctx_free, n_boot=n_boot, level=level, seed=seed)
    return {
        **out,
        "share": ratio.ratio,
        "ci_low": ratio.low,
        "ci_high": ratio.high,
        "n_boot_undefined": ratio.n_undefined,
        "undefined_reason": None,
    }


def undefined_reason(gain: float, low: float, high: float) -> str | None:
    """Why a context gain (T2T - none) with this CI cannot carry a share, or None if it can."""
    if low <= 0:
        return (
            f"the context does not clearly help: the 95% CI of T2T - none, "
            f"[{100 * low:+.1f}, {100 * high:+.1f}] points, reaches 0"
        )
    if gain < MIN_CONTEXT_GAIN:
        return (
            f"the context adds only {100 * gain:+.1f} points over no context (T2T - none), "
            f"under the {100 * MIN_CONTEXT_GAIN:.0f}-point minimum"
        )
    return None
