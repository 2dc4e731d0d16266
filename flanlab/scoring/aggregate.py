"""From per-template results to task, cluster and held-out means (templates averaged first)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence

from flanlab.scoring.zeroshot import TemplateResult


def task_summary(results: Sequence[TemplateResult]) -> dict[str, dict[str, float]]:
    """Per task: mean, median, max and std of the metric over its templates, plus chance."""
    by_task: dict[str, list[TemplateResult]] = defaultdict(list)
    for r in results:
        by_task[r.task].append(r)
    out = {}
    for task, rs in by_task.items():
        values = [r.value for r in rs]
        out[task] = {
            "cluster": rs[0].cluster,
            "mean": statistics.fmean(values),
            "median": statistics.median(values),
            "max": max(values),
            "std": statistics.pstdev(values) if len(values) > 1 else 0.0,
            "templates": len(values),
            "n": rs[0].n,
            "chance": rs[0].chance,
        }
    return out


def cluster_means(tasks: dict[str, dict[str, float]]) -> dict[str, float]:
    by_cluster: dict[str, list[float]] = defaultdict(list)
    for summary in tasks.values():
        by_cluster[summary["cluster"]].append(summary["mean"])
    return {c: statistics.fmean(v) for c, v in by_cluster.items()}


def flat_metrics(prefix: str, variant: str, results: Sequence[TemplateResult]) -> dict[str, float]:
    """W&B-style keys: ``<prefix>/<variant>/<task>/acc``, ``.../cluster/<c>``, ``.../mean``."""
    tasks = task_summary(results)
    clusters = cluster_means(tasks)
    metrics = {f"{prefix}/{variant}/{task}/acc": s["mean"] for task, s in tasks.items()}
    metrics |= {f"{prefix}/{variant}/cluster/{c}": v for c, v in clusters.items()}
    if clusters:
        metrics[f"{prefix}/{variant}/mean"] = statistics.fmean(clusters.values())
    return metrics
