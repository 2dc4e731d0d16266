"""FLAN's estimand, computed here and nowhere else: a task's score is the mean over its templates; a cluster's
is the mean over its tasks (tasks weigh equally, whatever their number of rows); the held-out mean is the mean
over clusters (clusters weigh equally, whatever their number of tasks).

``levels`` rolls task scores up to clusters and the held-out mean. It takes plain floats (one cell: the stored
per-cell numbers) or arrays (bootstrap resamples), so per-cell summaries, the W&B keys, the cross-seed tables and
every bootstrap interval share one weighting (``docs/scoring.md``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

TaskKey = tuple[str, str]  # (cluster, task)
MEAN_KEY = ("mean",)


def nanmean(values: Any, axis: int | None = None) -> Any:
    """``np.nanmean`` without the all-NaN warning (an all-NaN slice stays NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def levels(tasks: Mapping[TaskKey, Any], seed_axis: int | None = None) -> dict[tuple[str, ...], Any]:
    """Every level of the estimand from task scores keyed ``(cluster, task)``: ``("task", cluster, task)``,
    ``("cluster", cluster)`` and ``("mean",)``. Values are floats or equally shaped arrays (NaN = missing).

    With ``seed_axis``, each task value holds one entry per seed along that axis: a task's figure is its mean
    over seeds, a cluster's the mean over seeds of the per-seed mean over its tasks, and the held-out mean the mean
    over the seed-averaged clusters. Clusters come out sorted by name.
    """
    def over_seeds(value: Any) -> Any:
        return value if seed_axis is None else nanmean(value, axis=seed_axis)

    out: dict[tuple[str, ...], Any] = {("task", *k): over_seeds(v) for k, v in tasks.items()}
    clusters = sorted({c for c, _ in tasks})
    for c in clusters:
        per_seed = nanmean(np.stack([np.asarray(v, dtype=float) for (cc, _), v in tasks.items() if cc == c]), axis=0)
        out[("cluster", c)] = _plain(over_seeds(per_seed))
    if clusters:
        stacked = np.stack([np.asarray(out[("cluster", c)], dtype=float) for c in clusters])
        out[MEAN_KEY] = _plain(nanmean(stacked, axis=0))
    return out


def task_scores(tasks: Mapping[str, Mapping[str, Any]], key: str = "mean") -> dict[TaskKey, float]:
    """``(cluster, task) -> figure`` from stored task summaries (``key`` of each): the roll-up's input."""
    return {(summary["cluster"], task): float(summary[key]) for task, summary in tasks.items()}


def clusters_and_mean(tasks: Mapping[TaskKey, float]) -> tuple[dict[str, float], float]:
    """One cell's cluster scores and held-out mean from its task scores (``levels`` without the task level)."""
    rolled = levels(tasks)
    clusters = {key[1]: float(v) for key, v in rolled.items() if key[0] == "cluster"}
    return clusters, float(rolled[MEAN_KEY]) if MEAN_KEY in rolled else float("nan")


def _plain(value: Any) -> Any:
    """A 0-d array as a Python float; arrays unchanged."""
    return float(value) if np.ndim(value) == 0 else value
