"""Confidence intervals and paired tests for evaluation scores (seeded, so reports are reproducible).

    mean_ci([0.5, 0.75, 1.0])             -> Estimate(mean, low, high, n): 95% bootstrap CI of the mean
    paired_bootstrap(tuned, base)         -> PairedTest(diff, low, high, p_value, n): tuned - base on the same items

Both use `scipy.stats.bootstrap` (BCa, falling back to percentile where BCa is undefined). The paired
test's p-value is the two-sided bootstrap p-value of Efron & Tibshirani (1993, ch. 16): the bootstrap
distribution of the mean difference, shifted to mean 0 (the null), and the share of it at least as
far from 0 as the observed difference.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import stats

N_RESAMPLES = 4000


class Estimate(BaseModel):
    """A mean with its confidence interval; all None when there is no data."""

    model_config = ConfigDict(frozen=True)

    mean: float | None
    low: float | None
    high: float | None
    n: int
    confidence: float = 0.95


class PairedTest(BaseModel):
    """Mean of (a - b) over the items both have, its CI, and a two-sided p-value for 'no difference'."""

    model_config = ConfigDict(frozen=True)

    diff: float | None
    low: float | None
    high: float | None
    p_value: float | None
    n: int
    confidence: float = 0.95


def _bootstrap_mean(values: np.ndarray, confidence: float, n_resamples: int, seed: int):
    """(low, high, bootstrap distribution of the mean) of a non-constant sample."""
    def run(method: str):
        with warnings.catch_warnings():
            # BCa warns (and returns nan) on tiny or lopsided samples: we fall back below.
            warnings.simplefilter("ignore")
            return stats.bootstrap((values,), np.mean, n_resamples=n_resamples, confidence_level=confidence,
                                   method=method, rng=np.random.default_rng(seed), vectorized=True)

    result = run("BCa")
    low, high = result.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):
        result = run("percentile")
        low, high = result.confidence_interval
    return float(low), float(high), np.asarray(result.bootstrap_distribution)


def mean_ci(values: Sequence[float], *, confidence: float = 0.95, n_resamples: int = N_RESAMPLES,
            seed: int = 0) -> Estimate:
    """Mean of `values` with a bootstrap confidence interval (degenerate when all values are equal)."""
    data = np.asarray([float(v) for v in values], dtype=float)
    if data.size == 0:
        return Estimate(mean=None, low=None, high=None, n=0, confidence=confidence)
    mean = float(data.mean())
    if data.size == 1 or np.ptp(data) == 0:
        # Nothing to resample: every bootstrap mean is the mean itself.
        return Estimate(mean=mean, low=mean, high=mean, n=int(data.size), confidence=confidence)
    low, high, _ = _bootstrap_mean(data, confidence, n_resamples, seed)
    # Guard against floating-point edges so the interval always contains the estimate.
    return Estimate(mean=mean, low=min(low, mean), high=max(high, mean), n=int(data.size),
                    confidence=confidence)


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, confidence: float = 0.95,
                     n_resamples: int = N_RESAMPLES, seed: int = 0) -> PairedTest:
    """Test mean(a - b) = 0 on paired scores (a[i] and b[i] are the same item scored for two models)."""
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} vs {len(b)}")
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if diffs.size == 0:
        return PairedTest(diff=None, low=None, high=None, p_value=None, n=0, confidence=confidence)
    observed = float(diffs.mean())
    if diffs.size == 1 or np.ptp(diffs) == 0:
        # Every resample gives the same difference: no evidence either way beyond the value itself.
        p_value = 1.0 if observed == 0 else float(1 / (n_resamples + 1))
        return PairedTest(diff=observed, low=observed, high=observed, p_value=p_value, n=int(diffs.size),
                          confidence=confidence)
    low, high, distribution = _bootstrap_mean(diffs, confidence, n_resamples, seed)
    centred = distribution - distribution.mean()
    extreme = int(np.sum(np.abs(centred) >= abs(observed) - 1e-12))
    p_value = (extreme + 1) / (distribution.size + 1)
    return PairedTest(diff=observed, low=min(low, observed), high=max(high, observed),
                      p_value=float(min(1.0, p_value)), n=int(diffs.size), confidence=confidence)
