"""Bootstrap intervals resample examples; the paired test sees shared example difficulty."""

from __future__ import annotations

import numpy as np
import pytest

from flanlab.estimand.bootstrap import bootstrap_ci, paired_bootstrap, stratified_bootstrap_ci


def test_ci_contains_mean_and_shrinks_with_more_examples():
    rng = np.random.default_rng(1)
    small, large = rng.random(50) < 0.6, rng.random(2000) < 0.6
    lo_s, hi_s = bootstrap_ci(small)
    lo_l, hi_l = bootstrap_ci(large)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 3
    # Normal approximation for 2000 Bernoulli(0.6): half-width about 1.96 * sqrt(.24 / 2000) = 0.021.
    assert (hi_l - lo_l) / 2 == pytest.approx(0.0215, abs=0.004)
    assert bootstrap_ci(small, seed=3) == bootstrap_ci(small, seed=3)


def test_two_dimensional_input_resamples_example_columns():
    # Two templates that always agree: the interval equals the 1-D one of a single template.
    row = (np.arange(40) % 3 == 0).astype(float)
    assert bootstrap_ci(np.stack([row, row])) == pytest.approx(bootstrap_ci(row))
    # Columns with identical means across examples have no variance to resample.
    assert bootstrap_ci(np.array([[1, 0, 1, 0], [0, 1, 0, 1]])) == (0.5, 0.5)
    with pytest.raises(ValueError, match="n_examples"):
        bootstrap_ci(np.zeros((2, 2, 2)))


def test_stratified_ci_brackets_mean_of_means():
    a, b = np.ones(30), np.r_[np.ones(10), np.zeros(20)]
    low, high = stratified_bootstrap_ci([a, b])
    assert low < (1 + 1 / 3) / 2 < high and high <= 1.0


def test_paired_bootstrap_detects_a_consistent_gain_and_not_a_null():
    rng = np.random.default_rng(0)
    b = (rng.random((3, 300)) < 0.5).astype(float)
    a = b.copy()
    flip = rng.choice(300, 30, replace=False)
    a[:, flip] = 1.0  # a is never worse, better on some examples
    out = paired_bootstrap(a, b)
    assert out["diff"] == pytest.approx(a.mean() - b.mean())
    assert out["ci_low"] > 0 and out["p_value"] < 0.01
    same = paired_bootstrap(b, b)
    assert same["diff"] == 0 and same["p_value"] == 1.0
    noise = paired_bootstrap(b, b[:, rng.permutation(300)])
    assert noise["ci_low"] < noise["diff"] < noise["ci_high"]
    with pytest.raises(ValueError, match="same examples"):
        paired_bootstrap(a, b[:, :10])
