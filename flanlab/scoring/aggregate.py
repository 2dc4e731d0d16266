"""One cell's scores under one variant, summarised once: ``summarize`` turns per-template results into the block
stored in ``results.json`` (tasks, clusters, the held-out mean, CIs, best-dev); ``flat_metrics`` only formats that
block as W&B keys. Reports and notebooks read the same stored block.

* Per task: mean, median, max and std of the declared metric over its templates, the mean of every other
  metric, and (when asked) a bootstrap 95% interval resampling examples.
* Clusters and the held-out mean: rolled up by ``flanlab.scoring.estimand`` (tasks weigh equally in a
  cluster, clusters in the mean), with bootstrap intervals over the same roll-up.
* Best-dev-template: per task, the template with the highest score on a dev slice, reported with
  its score on the eval rows (FLAN's "best template on dev" figure).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from flanlab.estimand.bootstrap import bootstrap_ci, resampled_means
from flanlab.estimand.rollup import MEAN_KEY, TaskKey, clusters_and_mean, levels, task_scores
from flanlab.scoring.zeroshot import TemplateResult

LEVEL = 0.95


def _by_task(results: Sequence[TemplateResult]) -> dict[str, list[TemplateResult]]:
    by_task: dict[str, list[TemplateResult]] = defaultdict(list)
    for r in results:
        by_task[r.task].append(r)
    return by_task


def correct_matrix(results: Sequence[TemplateResult]) -> np.ndarray:
    """One task's per-example hits, [n_templates, n_examples] (every template scores the same rows)."""
    return np.array([r.correct for r in results], dtype=float)


def task_summary(results: Sequence[TemplateResult], n_resamples: int = 0, seed: int = 0) -> dict[str, dict]:
    """Per task: statistics of the metric over its templates, other metrics' means, chance, optional CI."""
    out = {}
    for task, rs in _by_task(results).items():
        values = [r.value for r in rs]
        summary = {
            "cluster": rs[0].cluster,
            "metric": rs[0].metric,
            "mean": statistics.fmean(values),
            "median": statistics.median(values),
            "max": max(values),
            "min": min(values),
            "std": statistics.pstdev(values) if len(values) > 1 else 0.0,
            "templates": len(values),
            "per_template": {r.template_id: r.value for r in rs},
            "n": rs[0].n,
            "chance": rs[0].chance,
            "metrics": {k: statistics.fmean(r.other_metrics[k] for r in rs) for k in rs[0].other_metrics},
        }
        if n_resamples:
            summary["ci_low"], summary["ci_high"] = bootstrap_ci(correct_matrix(rs), n_resamples, seed)
        out[task] = summary
    return out


def _matrices(results: Sequence[TemplateResult]) -> dict[TaskKey, np.ndarray]:
    return {(rs[0].cluster, task): correct_matrix(rs) for task, rs in _by_task(results).items()}


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(values, [(1 - LEVEL) / 2 * 100, (1 + LEVEL) / 2 * 100])
    return float(low), float(high)


def cluster_cis(results: Sequence[TemplateResult], n_resamples: int = 1000,
                seed: int = 0) -> dict[str, tuple[float, float]]:
    """Bootstrap 95% intervals of each cluster score and (key ``"mean"``) of the held-out mean: each task's
    examples resampled on their own, the resampled task means rolled up like the point estimate."""
    matrices = _matrices(results)
    out = {}
    for c in dict.fromkeys(c for c, _ in matrices):
        rng = np.random.default_rng(seed)  # one generator per cluster: a cluster's interval ignores the others
        draws = {k: resampled_means(m, n_resamples, rng) for k, m in matrices.items() if k[0] == c}
        out[c] = _percentiles(levels(draws)[("cluster", c)])
    if matrices:
        rng = np.random.default_rng(seed)
        resampled = {k: resampled_means(m, n_resamples, rng) for k, m in matrices.items()}
        out["mean"] = _percentiles(levels(resampled)[MEAN_KEY])
    return out


def summarize(results: Sequence[TemplateResult], *, n_resamples: int = 0, seed: int = 0,
              dev: Sequence[TemplateResult] | None = None) -> dict[str, Any]:
    """The stored block of one variant: ``templates``, ``tasks``, ``clusters``, ``mean``, and when asked ``cis``
    and ``best_dev`` (per task, with ``best_dev_clusters`` and ``best_dev_mean``)."""
    tasks = task_summary(results, n_resamples, seed)
    clusters, mean = clusters_and_mean(task_scores(tasks))
    block: dict[str, Any] = {"templates": [r.as_dict() for r in results], "tasks": tasks, "clusters": clusters,
                             "mean": mean}
    if n_resamples and results:
        block["cis"] = {k: list(v) for k, v in cluster_cis(results, n_resamples, seed).items()}
    if dev:
        block["best_dev"] = best_dev_template(dev, results)
        block["best_dev_clusters"], block["best_dev_mean"] = clusters_and_mean(task_scores(block["best_dev"], "eval"))
    return block


def best_dev_template(dev: Sequence[TemplateResult], evaluated: Sequence[TemplateResult]) -> dict[str, dict]:
    """Per task: the template with the best dev score (ties: first in catalogue order) and its eval score."""
    eval_by = {(r.task, r.template_id): r for r in evaluated}
    out = {}
    for task, rs in _by_task(dev).items():
        best = max(rs, key=lambda r: r.value)  # max keeps the first of tied templates
        chosen = eval_by.get((task, best.template_id))
        if chosen is None:
            continue
        out[task] = {"cluster": chosen.cluster, "template": best.template_id, "dev": best.value,
                     "dev_n": best.n, "eval": chosen.value}
    return out


def flat_metrics(prefix: str, variant: str, block: dict[str, Any]) -> dict[str, float]:
    """W&B-style keys formatted from a stored block (``summarize``), nothing recomputed:
    ``<prefix>/<variant>/<task>/acc`` (+ ``/median``, ``/max``, ``/std``, other metrics), ``.../cluster/<c>``,
    ``.../mean`` (= ``.../heldout_mean``), CIs and best-dev-template figures."""
    base = f"{prefix}/{variant}"
    metrics: dict[str, float] = {}
    for task, s in block["tasks"].items():
        metrics[f"{base}/{task}/acc"] = s["mean"]
        metrics |= {f"{base}/{task}/{stat}": s[stat] for stat in ("median", "max", "std")}
        metrics |= {f"{base}/{task}/{k}": v for k, v in s["metrics"].items() if k not in ("acc", "exact_match")}
    metrics |= {f"{base}/cluster/{c}": v for c, v in block["clusters"].items()}
    if block["clusters"]:
        metrics[f"{base}/mean"] = metrics[f"{base}/heldout_mean"] = block["mean"]
    for name, (low, high) in block.get("cis", {}).items():
        key = f"{base}/mean" if name == "mean" else f"{base}/cluster/{name}"
        metrics[f"{key}_ci_low"], metrics[f"{key}_ci_high"] = low, high
    if block.get("best_dev"):
        metrics |= {f"{base}/best_dev/cluster/{c}": v for c, v in block["best_dev_clusters"].items()}
        metrics[f"{base}/best_dev/mean"] = block["best_dev_mean"]
    return metrics
