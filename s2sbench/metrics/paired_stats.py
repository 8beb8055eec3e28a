"""Paired statistics for comparing two conditions (or two runs) on the same items.

* Paired bootstrap: resample items with replacement (seeded), recompute the
  difference of mean item scores; the CI is the percentile interval. The same
  resampling of one condition's item scores (``bootstrap_mean``) gives the CI
  of an accuracy, so a curve's band and its gap's CI come from one method.
* Exact McNemar: on the discordant binary outcomes (right in A and wrong in
  B, and the reverse), a two-sided exact binomial test with p = 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class BootstrapCI:
    diff: float
    low: float
    high: float
    level: float
    n_boot: int
    seed: int


@dataclass(frozen=True)
class McNemar:
    a_only: int  # right under A, wrong under B
    b_only: int  # wrong under A, right under B
    p_value: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def bootstrap_mean(
    values: Sequence[float] | np.ndarray,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 1234,
) -> BootstrapCI:
    """Percentile CI of ``mean(values)``, resampling whole items with replacement (seeded).

    An item's value is its score (0/1 for a story, k/3 for a choice question),
    so the 3 dependent pairs of one question are resampled together.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError("bootstrap_mean needs a non-empty sequence")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    boot = x[idx].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return BootstrapCI(float(x.mean()), float(low), float(high), level, n_boot, seed)


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 1234,
) -> BootstrapCI:
    """CI of ``mean(a) - mean(b)`` over paired items (same index = same item)."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise ValueError("paired_bootstrap needs two equally long, non-empty sequences")
    return bootstrap_mean(x - y, n_boot=n_boot, level=level, seed=seed)


def mcnemar_exact(a: Sequence[bool], b: Sequence[bool]) -> McNemar:
    """Exact two-sided McNemar test on paired right/wrong outcomes."""
    from scipy.stats import binomtest

    if len(a) != len(b):
        raise ValueError("mcnemar_exact needs paired outcomes of equal length")
    a_only = sum(1 for x, y in zip(a, b) if x and not y)
    b_only = sum(1 for x, y in zip(a, b) if y and not x)
    n = a_only + b_only
    p = 1.0 if n == 0 else float(binomtest(min(a_only, b_only), n, 0.5).pvalue)
    return McNemar(a_only, b_only, min(1.0, p))
