"""From per-template results to task, cluster and held-out figures (templates averaged first).

* Per task: mean, median, max and std of the primary metric over its templates, the mean of
  every other metric, and (when asked) a bootstrap 95% interval resampling examples.
* Best-dev-template: per task, the template with the highest score on a dev slice, reported with
  its score on the eval rows (FLAN's "best template on dev" figure).
* Cluster means (tasks averaged equally) and the held-out mean (clusters averaged equally).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from flanlab.scoring.bootstrap import bootstrap_ci, resampled_means, stratified_bootstrap_ci
from flanlab.scoring.zeroshot import TemplateResult


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
            "metrics": {k: statistics.fmean(r.extra[k] for r in rs) for k in rs[0].extra},
        }
        if n_resamples:
            summary["ci_low"], summary["ci_high"] = bootstrap_ci(correct_matrix(rs), n_resamples, seed)
        out[task] = summary
    return out


def cluster_means(tasks: dict[str, dict], key: str = "mean") -> dict[str, float]:
    """Unweighted mean of each cluster's task figures (``key`` of each task summary)."""
    by_cluster: dict[str, list[float]] = defaultdict(list)
    for summary in tasks.values():
        by_cluster[summary["cluster"]].append(summary[key])
    return {c: statistics.fmean(v) for c, v in by_cluster.items()}


def heldout_mean(clusters: dict[str, float]) -> float:
    """The held-out mean: clusters weigh equally, whatever their number of tasks."""
    return statistics.fmean(clusters.values()) if clusters else float("nan")


def cluster_cis(results: Sequence[TemplateResult], n_resamples: int = 1000,
                seed: int = 0) -> dict[str, tuple[float, float]]:
    """Bootstrap 95% intervals of each cluster mean and (key ``"mean"``) of the held-out mean."""
    matrices: dict[str, list[np.ndarray]] = defaultdict(list)
    for rs in _by_task(results).values():
        matrices[rs[0].cluster].append(correct_matrix(rs))
    out = {c: stratified_bootstrap_ci(m, n_resamples, seed) for c, m in matrices.items()}
    if matrices:
        # Held-out mean = mean of cluster means = task means weighted 1 / (clusters * tasks in cluster).
        rng = np.random.default_rng(seed)
        per_cluster = [np.mean([resampled_means(m, n_resamples, rng) for m in ms], axis=0) for ms in matrices.values()]
        low, high = np.percentile(np.mean(per_cluster, axis=0), [2.5, 97.5])
        out["mean"] = (float(low), float(high))
    return out


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


def flat_metrics(prefix: str, variant: str, results: Sequence[TemplateResult], *,
                 best_dev: dict[str, dict] | None = None, n_resamples: int = 0, seed: int = 0) -> dict[str, float]:
    """W&B-style keys: ``<prefix>/<variant>/<task>/acc`` (+ ``/median``, ``/max``, ``/std``, other metrics),
    ``.../cluster/<c>``, ``.../mean`` (= ``.../heldout_mean``), CIs and best-dev-template figures."""
    tasks = task_summary(results)
    clusters = cluster_means(tasks)
    base = f"{prefix}/{variant}"
    metrics: dict[str, float] = {}
    for task, s in tasks.items():
        metrics[f"{base}/{task}/acc"] = s["mean"]
        metrics |= {f"{base}/{task}/{stat}": s[stat] for stat in ("median", "max", "std")}
        metrics |= {f"{base}/{task}/{k}": v for k, v in s["metrics"].items() if k not in ("acc", "exact_match")}
    metrics |= {f"{base}/cluster/{c}": v for c, v in clusters.items()}
    if clusters:
        metrics[f"{base}/mean"] = metrics[f"{base}/heldout_mean"] = heldout_mean(clusters)
    if n_resamples and clusters:
        for name, (low, high) in cluster_cis(results, n_resamples, seed).items():
            key = f"{base}/mean" if name == "mean" else f"{base}/cluster/{name}"
            metrics[f"{key}_ci_low"], metrics[f"{key}_ci_high"] = low, high
    if best_dev:
        best_clusters = cluster_means(best_dev, key="eval")
        metrics |= {f"{base}/best_dev/cluster/{c}": v for c, v in best_clusters.items()}
        metrics[f"{base}/best_dev/mean"] = heldout_mean(best_clusters)
    return metrics
