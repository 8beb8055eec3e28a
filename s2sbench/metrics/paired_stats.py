"""Paired statistics for comparing two conditions (or two runs) on the same items.

* Paired bootstrap: resample items with replacement (seeded), recompute the
  difference of mean item scores; the CI is the percentile interval. The same
  resampling of one condition's item scores (``bootstrap_mean``) gives the CI
  of an accuracy, so a curve's band and its gap's CI come from one method.
* Ratio of two paired differences (``paired_ratio_bootstrap``): the same
  resampling, the ratio recomputed per resample; a resample whose denominator
  is not positive has no ratio and is counted, not used.
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
    boot = x[resample_indices(len(x), n_boot=n_boot, seed=seed)].mean(axis=1)
    low, high = percentile_interval(boot, level)
    return BootstrapCI(float(x.mean()), low, high, level, n_boot, seed)


def resample_indices(n: int, *, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n)`` item indices drawn with replacement: every bootstrap here draws these,
    so statistics computed with one seed on the same items share their resamples."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def percentile_interval(boot: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap replicates."""
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return float(low), float(high)


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


@dataclass(frozen=True)
class RatioCI:
    """``ratio`` = (mean(a) - mean(b)) / (mean(a) - mean(c)) with its percentile CI over the
    resamples whose denominator is positive (``n_undefined`` resamples had none)."""

    ratio: float
    low: float
    high: float
    level: float
    n_boot: int
    n_undefined: int
    seed: int


def paired_ratio_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    c: Sequence[float],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 1234,
) -> RatioCI:
    """CI of ``(mean(a) - mean(b)) / (mean(a) - mean(c))`` over items scored three ways.

    Each resample draws whole items (the same draws as :func:`paired_bootstrap` with this
    seed), so numerator and denominator move together. The caller decides whether the
    ratio is meaningful at all (its denominator clearly positive); this only refuses a
    zero denominator at the point estimate.
    """
    x, y, z = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    if not (x.shape == y.shape == z.shape) or x.ndim != 1 or len(x) == 0:
        raise ValueError("paired_ratio_bootstrap needs three equally long, non-empty sequences")
    num, den = x - y, x - z
    if den.mean() <= 0:
        raise ValueError("the ratio's denominator mean(a) - mean(c) is not positive")
    idx = resample_indices(len(x), n_boot=n_boot, seed=seed)
    boot_num, boot_den = num[idx].mean(axis=1), den[idx].mean(axis=1)
    defined = boot_den > 0
    low, high = (
        percentile_interval(boot_num[defined] / boot_den[defined], level)
        if defined.any()
        else (float("nan"), float("nan"))
    )
    return RatioCI(
        float(num.mean() / den.mean()),
        low,
        high,
        level,
        n_boot,
        int(n_boot - defined.sum()),
        seed,
    )


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
