"""Bootstrap confidence intervals that resample *examples* (columns), never templates.

``correct`` arrays are per-example scores (0/1 hits, or any per-example metric), shape
``[n_examples]`` or ``[n_templates, n_examples]``; every template scores the same examples, so a
resample draws example columns with replacement and keeps all templates of each drawn example.
The statistic is the mean over all cells. Intervals are percentile intervals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _columns(correct: np.ndarray, name: str = "correct") -> np.ndarray:
    """Per-example means over templates, shape [n_examples]."""
    arr = np.asarray(correct, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be [n_examples] or [n_templates, n_examples] with >= 1 example, got {arr.shape}")
    return arr.mean(axis=0)


def resampled_means(correct: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``n_resamples`` means of ``correct`` over example columns drawn with replacement."""
    columns = _columns(correct)
    idx = rng.integers(0, len(columns), size=(n_resamples, len(columns)))
    return columns[idx].mean(axis=1)


def bootstrap_ci(correct: np.ndarray, n_resamples: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the mean of ``correct`` under resampling of example columns."""
    means = resampled_means(correct, n_resamples, np.random.default_rng(seed))
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def stratified_bootstrap_ci(parts: Sequence[np.ndarray], n_resamples: int = 1000, seed: int = 0,
                            level: float = 0.95) -> tuple[float, float]:
    """Interval of the unweighted mean of several parts' means (e.g. tasks in a cluster, clusters in a
    held-out mean), each part's examples resampled on their own."""
    if not parts:
        raise ValueError("no parts to bootstrap")
    rng = np.random.default_rng(seed)
    means = np.mean([resampled_means(p, n_resamples, rng) for p in parts], axis=0)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def paired_bootstrap(a: np.ndarray, b: np.ndarray, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Compare two models scored on the same examples (same shape): ``mean(a) - mean(b)``.

    Both are resampled with the *same* example columns. ``ci_low``/``ci_high`` bound the difference
    (95% percentile interval); ``p_value`` is two-sided for "no difference", from the resampled
    differences re-centred on zero: ``(#{|d* - d| >= |d|} + 1) / (n_resamples + 1)``.
    """
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"paired bootstrap needs the same examples: shapes {a_arr.shape} and {b_arr.shape}")
    delta = _columns(a_arr, "a") - _columns(b_arr, "b")
    diff = float(delta.mean())
    resampled = resampled_means(delta, n_resamples, np.random.default_rng(seed))
    low, high = np.percentile(resampled, [2.5, 97.5])
    extreme = int(np.sum(np.abs(resampled - diff) >= abs(diff) - 1e-12))
    return {"diff": diff, "ci_low": float(low), "ci_high": float(high),
            "p_value": (extreme + 1) / (n_resamples + 1), "n_examples": int(delta.shape[0])}
