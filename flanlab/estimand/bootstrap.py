"""Bootstrap confidence intervals that resample *examples* (columns), never templates.

``correct`` arrays are per-example scores (0/1 hits, or any per-example metric), shape
``[n_examples]`` or ``[n_templates, n_examples]``; every template scores the same examples, so a
resample draws example columns with replacement and keeps all templates of each drawn example.
The statistic is the mean over all cells. Intervals are percentile intervals. These serve one
cell's CIs; across seeds, ``hierarchical_bootstrap`` and ``paired_hierarchical_bootstrap`` (below)
resample seeds, then examples within each drawn seed, stratified by task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flanlab.estimand.rollup import levels, nanmean


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


# --- Hierarchical bootstrap: seeds, then examples within each drawn seed, stratified by task ---------------------
#
# A *group* (one arm scored one way) is a mapping ``key -> (num, den)`` with ``key = (cluster, task)`` and arrays of
# shape ``[n_seeds, n_templates, n_examples]`` (the seed axis is the same list of seeds for every task; NaN marks a
# missing seed or template). A template's statistic is the ratio ``sum(num) / sum(den)`` over its examples: with
# ``den = 1`` it is accuracy; with ``num = correct * type_ok, den = type_ok`` it is accuracy given the right answer
# type. The estimand is FLAN's: templates averaged, then tasks (per cluster), then seeds; the held-out mean averages
# the clusters. A resample draws seeds with replacement, then, for each drawn seed and task, example columns with
# replacement (the same columns for every template of the task, and for both arms of a paired comparison).

MIN_SEEDS_FOR_P = 3  # fewer seeds: no p-value, and CIs resample examples only


@dataclass
class Draws:
    """One set of resamples: ``seeds[r, j]`` is the seed drawn at position ``j`` of resample ``r``;
    ``counts[key][r * S + j, i]`` how often example ``i`` of that task was drawn within that drawn seed."""

    seeds: np.ndarray
    counts: dict[tuple[str, str], np.ndarray]


def identity_draws(n_seeds: int, sizes: Mapping[tuple[str, str], int]) -> Draws:
    """One "resample" that keeps every seed and example once: it gives the point estimate."""
    return Draws(np.arange(n_seeds)[None, :], {k: np.ones((n_seeds, n)) for k, n in sizes.items()})


def draw_hierarchical(n_seeds: int, sizes: Mapping[tuple[str, str], int], n_resamples: int,
                      rng: np.random.Generator, *, resample_seeds: bool = True) -> Draws:
    """Seeds with replacement (kept as they are when ``resample_seeds`` is false), then examples per seed and task."""
    if resample_seeds:
        seeds = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))
    else:
        seeds = np.broadcast_to(np.arange(n_seeds), (n_resamples, n_seeds))
    counts = {k: _counts(rng.integers(0, sizes[k], size=(n_resamples, n_seeds, sizes[k])), sizes[k])
              for k in sorted(sizes)}
    return Draws(seeds, counts)


def _counts(examples: np.ndarray, n: int) -> np.ndarray:
    """How often each example column was drawn: ``[R * S, n]`` from ``[R, S, n]`` indices."""
    rows = examples.shape[0] * examples.shape[1]
    flat = examples.reshape(rows, -1) + (np.arange(rows) * n)[:, None]
    return np.bincount(flat.ravel(), minlength=rows * n).reshape(rows, n).astype(float)


def _drawn_sums(x: np.ndarray, seeds: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``[R, S, K]``: per resample and drawn seed, each template's sum of ``x`` over the drawn examples."""
    n_seeds, k, n = x.shape
    # einsum's own loop, not BLAS: small products where BLAS threads only contend with other work
    per_seed = np.einsum("an,bn->ab", x.reshape(n_seeds * k, n), counts, optimize=False).reshape(n_seeds, k, -1)
    picked = per_seed[seeds.reshape(-1), :, np.arange(counts.shape[0])]  # [R * S, K]
    return picked.reshape(*seeds.shape, k)


def ratio_values(num: np.ndarray, den: np.ndarray, seeds: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per resample and drawn seed, ``[R, S]``: the mean over templates of ``sum(num) / sum(den)`` on the drawn
    examples (``counts``, as in ``Draws``; templates with no denominator are left out; NaN if none is left)."""
    top, bottom = _drawn_sums(num, seeds, counts), _drawn_sums(den, seeds, counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)
    return nanmean(ratio, axis=-1)


def hierarchical_estimates(group: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]],
                           draws: Draws) -> dict[tuple[str, ...], np.ndarray]:
    """The estimand on every resample, ``[R]`` per level: ``("task", cluster, task)``, ``("cluster", cluster)``
    and ``("mean",)``, rolled up by ``flanlab.scoring.estimand.levels``."""
    per_task = {k: ratio_values(*group[k], draws.seeds, draws.counts[k]) for k in sorted(group)}  # [R, S] each
    return levels(per_task, seed_axis=1)


def _sizes(group: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]]) -> dict[tuple[str, str], int]:
    shapes = {k: v[0].shape for k, v in group.items()}
    if len({s[0] for s in shapes.values()}) > 1:
        raise ValueError(f"every task of a group needs the same seed axis, got {shapes}")
    return {k: s[2] for k, s in shapes.items()}


def hierarchical_bootstrap(group: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]], n_resamples: int = 1000,
                           seed: int = 0, level: float = 0.95, resample_seeds: bool | None = None,
                           draws: Draws | None = None) -> dict:
    """Point estimate and percentile CI of every level of the estimand. Seeds are resampled when there are at
    least ``MIN_SEEDS_FOR_P`` of them (or as ``resample_seeds`` says); otherwise the CI covers examples only.
    ``draws`` (from ``draw_hierarchical`` over these seeds and at least these tasks) reuses one set of resamples
    across statistics. Returns ``{level_key: {"value", "ci_low", "ci_high"}}`` plus ``"ci_kind"``:
    ``"seeds+examples"`` or ``"examples"``."""
    sizes = _sizes(group)
    n_seeds = next(iter(group.values()))[0].shape[0]
    if resample_seeds is None:
        resample_seeds = n_seeds >= MIN_SEEDS_FOR_P
    point = hierarchical_estimates(group, identity_draws(n_seeds, sizes))
    if draws is None:
        draws = draw_hierarchical(n_seeds, sizes, n_resamples, np.random.default_rng(seed),
                                  resample_seeds=resample_seeds)
    boot = hierarchical_estimates(group, draws)
    out: dict = {"ci_kind": "seeds+examples" if resample_seeds else "examples"}
    for key, values in point.items():
        low, high = _interval(boot[key], level)
        out[key] = {"value": float(values[0]), "ci_low": low, "ci_high": high}
    return out


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def paired_hierarchical_bootstrap(a: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]],
                                  b: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]], n_resamples: int = 1000,
                                  seed: int = 0, level: float = 0.95) -> dict:
    """``a - b`` at every level of the estimand, paired: both groups must hold the same tasks, seeds (axis 0 in the
    same order) and examples; one set of draws serves both. ``p`` is two-sided for "no difference", from the
    resampled differences re-centred on zero, ``(#{|d* - d| >= |d|} + 1) / (R + 1)``; NaN with fewer than
    ``MIN_SEEDS_FOR_P`` seeds, where seeds are not resampled and the CI covers examples only."""
    if sorted(a) != sorted(b) or _sizes(a) != _sizes(b):
        raise ValueError("a paired comparison needs the same tasks and examples in both groups")
    sizes = _sizes(a)
    n_seeds = next(iter(a.values()))[0].shape[0]
    if next(iter(b.values()))[0].shape[0] != n_seeds:
        raise ValueError("a paired comparison needs the same seeds in both groups")
    resample_seeds = n_seeds >= MIN_SEEDS_FOR_P
    ident = identity_draws(n_seeds, sizes)
    draws = draw_hierarchical(n_seeds, sizes, n_resamples, np.random.default_rng(seed), resample_seeds=resample_seeds)
    pa, pb = hierarchical_estimates(a, ident), hierarchical_estimates(b, ident)
    ba, bb = hierarchical_estimates(a, draws), hierarchical_estimates(b, draws)
    out: dict = {"ci_kind": "seeds+examples" if resample_seeds else "examples", "seeds": n_seeds}
    for key in pa:
        diff = float(pa[key][0] - pb[key][0])
        resampled = ba[key] - bb[key]
        low, high = _interval(resampled, level)
        finite = resampled[np.isfinite(resampled)]
        p = float("nan")
        if resample_seeds and finite.size and np.isfinite(diff):
            p = (int(np.sum(np.abs(finite - diff) >= abs(diff) - 1e-12)) + 1) / (finite.size + 1)
        out[key] = {"diff": diff, "ci_low": low, "ci_high": high, "p": p}
    return out


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaNs are not part of the family and stay NaN)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    if idx.size == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out
