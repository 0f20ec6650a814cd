"""The statistics of evaluation on inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from socratic.evaluate.stats import mean_ci, paired_bootstrap


def test_mean_ci_contains_the_mean_and_is_seeded():
    values = [0.1, 0.4, 0.35, 0.8, 0.9, 0.2, 0.55, 0.6]
    first = mean_ci(values, seed=3)
    assert first.mean == pytest.approx(np.mean(values))
    assert first.low < first.mean < first.high
    assert first.n == 8
    assert mean_ci(values, seed=3) == first  # same seed, same interval


def test_mean_ci_of_constant_data_is_a_point():
    estimate = mean_ci([0.75] * 10)
    assert (estimate.mean, estimate.low, estimate.high) == (0.75, 0.75, 0.75)


def test_mean_ci_of_nothing_is_empty():
    estimate = mean_ci([])
    assert estimate.n == 0 and estimate.mean is None and estimate.low is None


def test_mean_ci_narrows_with_more_data():
    rng = np.random.default_rng(0)
    small = mean_ci(rng.uniform(size=10))
    large = mean_ci(rng.uniform(size=400))
    assert (large.high - large.low) < (small.high - small.low) / 3


def test_mean_ci_of_a_rate_stays_in_zero_one():
    estimate = mean_ci([1, 1, 1, 0, 1, 1, 1, 1, 1, 1])
    assert 0.0 <= estimate.low <= 0.9 <= estimate.high <= 1.0


def test_paired_bootstrap_of_identical_lists_finds_nothing():
    scores = [0.2, 0.5, 0.9, 0.4, 0.7]
    test = paired_bootstrap(scores, scores)
    assert test.diff == 0.0 and test.low == 0.0 and test.high == 0.0
    assert test.p_value == pytest.approx(1.0)


def test_paired_bootstrap_with_noise_around_zero_is_not_significant():
    rng = np.random.default_rng(1)
    base = rng.uniform(size=40)
    other = base + rng.normal(0, 0.05, size=40)
    other -= (other - base).mean()  # exactly zero mean difference
    test = paired_bootstrap(other, base)
    assert test.diff == pytest.approx(0.0, abs=1e-12)
    assert test.low < 0 < test.high
    assert test.p_value > 0.9


def test_paired_bootstrap_detects_a_clear_shift():
    rng = np.random.default_rng(2)
    base = rng.uniform(0.2, 0.6, size=30)
    tuned = base + 0.2 + rng.normal(0, 0.02, size=30)
    test = paired_bootstrap(tuned, base, seed=0)
    assert test.diff == pytest.approx(0.2, abs=0.02)
    assert 0 < test.low < test.diff < test.high
    assert test.p_value < 0.001
    assert paired_bootstrap(tuned, base, seed=0) == test
    reverse = paired_bootstrap(base, tuned, seed=0)
    assert reverse.diff == pytest.approx(-test.diff) and reverse.high < 0


def test_paired_bootstrap_constant_nonzero_shift_is_significant():
    test = paired_bootstrap([1.0, 1.0, 1.0], [0.5, 0.5, 0.5])
    assert test.diff == 0.5 and test.p_value < 0.01


def test_paired_bootstrap_rejects_unpaired_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap([1.0, 2.0], [1.0])
