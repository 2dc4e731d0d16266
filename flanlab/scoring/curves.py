"""Held-out curves during training (``scoring.curve_every``, docs/training.md "Curves during training").

At each curve point the model scores a fixed subset of its rows zero-shot: the first ``scoring.curve_rows`` of each
held-out task's scored rows (so every arm and seed sees the same rows, a subset of what the final score uses) under
every scoring variant of the cell, and the first ``scoring.curve_indist_rows`` (at most
``data.indist_eval_per_task``) of each trained task's in-distribution rows with the in-distribution variant. A point
per variant holds the held-out score, type accuracy (format) and accuracy given type (content) per cluster and for
the held-out mean (FLAN's estimand: templates, then tasks, then clusters), the in-distribution accuracy, and per task
the per-example hits, answer-type hits, pick rates and baselines the report needs for its intervals. No bootstrap
runs here: the report resamples seeds and examples across cells.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
from omegaconf import DictConfig

from flanlab.estimand.rollup import clusters_and_mean, nanmean
from flanlab.scoring.cot_config import cot_scoring
from flanlab.scoring.heldout import score_options
from flanlab.scoring.scorers import Scorer, make_scorer
from flanlab.scoring.zeroshot import TemplateResult, eval_rows, score_tasks
from flanlab.tasks.catalogue import Catalogue
from flanlab.tracking.run import Tracker

log = logging.getLogger(__name__)
METRICS = ("score", "type_acc", "acc_given_type")  # the stored roll-ups of a point, as the report names them


@dataclass(frozen=True)
class CurveRows:
    """The rows every curve point scores: held-out rows by task, and in-distribution rows by trained task."""

    heldout: dict[str, datasets.Dataset]
    indist: dict[str, datasets.Dataset]


def fixed_rows(catalogue: Catalogue, heldout_rows: dict[str, datasets.Dataset], train_tasks: Sequence[str],
               rows: int, indist_rows: int, seed: int) -> CurveRows:
    """The first ``rows`` of each held-out task's scored rows (``heldout_rows``, already a seeded sample), and the
    first ``indist_rows`` of each trained task's in-distribution sample (``eval_rows`` with ``seed``,
    ``data.eval_sample_seed``; none when 0): the same rows for every arm and seed, and (with ``indist_rows`` at
    most ``data.indist_eval_per_task``) a subset of what the final score uses."""
    heldout = {task: data.select(range(min(rows, len(data)))) for task, data in heldout_rows.items()}
    indist = eval_rows(catalogue, train_tasks, indist_rows, seed=seed) if indist_rows and train_tasks else {}
    return CurveRows(heldout, indist)


def _template_figures(r: TemplateResult) -> tuple[float, float, float]:
    """One template's accuracy, type accuracy and accuracy given type (NaN where answer types are unknown)."""
    correct = np.asarray(r.correct, dtype=float)
    if r.type_correct is None:
        return float(correct.mean()), float("nan"), float("nan")
    typed = np.asarray(r.type_correct, dtype=float)
    given = float((correct * typed).sum() / typed.sum()) if typed.sum() else float("nan")
    return float(correct.mean()), float(typed.mean()), given


def _rolled(per_task: dict[tuple[str, str], float]) -> dict[str, Any]:
    """Task figures rolled up to clusters and the held-out mean (``flanlab.estimand.rollup``)."""
    clusters, mean = clusters_and_mean(per_task)
    return {"mean": mean, "clusters": clusters}


def task_entries(results: Sequence[TemplateResult]) -> dict[str, dict[str, Any]]:
    """Per task: its cluster, per-template hits and answer-type hits (template order), mean pick rates, and the
    baselines of its rows (chance, chance given type, majority)."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        e = out.setdefault(r.task, {"cluster": r.cluster, "templates": [], "correct": [], "type_correct": None,
                                    "chance": r.chance, "chance_given_type": r.other_metrics.get("chance_given_type"),
                                    "majority": r.other_metrics.get("majority"), "pick_rate": {}})
        e["templates"].append(r.template_id)
        e["correct"].append([float(c) for c in r.correct])
        if r.type_correct is not None:
            e["type_correct"] = [*(e["type_correct"] or []), [int(t) for t in r.type_correct]]
        for answer, rate in r.pick_rate.items():
            e["pick_rate"][answer] = e["pick_rate"].get(answer, 0.0) + rate
    for e in out.values():
        e["pick_rate"] = {a: rate / len(e["templates"]) for a, rate in e["pick_rate"].items()}
    return out


def summarize_point(results: Sequence[TemplateResult]) -> dict[str, Any]:
    """Score, type accuracy and accuracy given type per cluster and for the held-out mean, and the task entries."""
    by_task: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for r in results:
        by_task.setdefault((r.cluster, r.task), []).append(_template_figures(r))
    figures = {k: nanmean(np.array(v), axis=0) for k, v in by_task.items()}  # mean over templates
    out = {name: _rolled({k: float(f[i]) for k, f in figures.items()}) for i, name in enumerate(METRICS)}
    return {**out, "tasks": task_entries(results)}


def score_point(scorer: Scorer, catalogue: Catalogue, rows: CurveRows, passes: dict[str, dict[str, Any]],
                indist: tuple[str, dict[str, Any]] | None, step: int, tokens: int) -> list[dict[str, Any]]:
    """One curve evaluation: a point per scoring variant of ``passes`` (variant -> ``score_tasks`` options), each
    with the in-distribution accuracy of ``indist`` (variant, options) beside it."""
    began = time.perf_counter()
    indist_block = None
    if indist is not None and rows.indist:
        variant, opts = indist
        scored = summarize_point(score_tasks(scorer, catalogue, rows.indist, variant, **opts))["score"]
        indist_block = {"variant": variant, **scored}
    points = []
    for variant, opts in passes.items():
        summary = summarize_point(score_tasks(scorer, catalogue, rows.heldout, variant, **opts))
        points.append({"step": step, "tokens": tokens, "variant": variant, **summary, "indist": indist_block})
    seconds = time.perf_counter() - began
    for p in points:
        p["seconds"] = seconds
    return points


def point_metrics(points: Sequence[dict[str, Any]]) -> dict[str, float]:
    """W&B keys of one evaluation: ``curve/<variant>/<cluster or mean>/<score|type_acc|acc_given_type>``,
    ``curve/indist/<variant>/mean``, ``curve/tokens_seen`` and ``curve/seconds``."""
    out: dict[str, float] = {}
    for p in points:
        base = f"curve/{p['variant']}"
        for name in METRICS:
            out[f"{base}/mean/{name}"] = p[name]["mean"]
            out |= {f"{base}/{c}/{name}": v for c, v in p[name]["clusters"].items()}
        if p["indist"] is not None:
            out[f"curve/indist/{p['indist']['variant']}/mean"] = p["indist"]["mean"]
        out |= {"curve/tokens_seen": float(p["tokens"]), "curve/seconds": p["seconds"]}
    return out


def pass_options(cfg: DictConfig, scorer: Scorer, variant: str) -> dict[str, Any]:
    """``score_tasks`` options for ``variant``, as the final held-out scoring uses them (``pipeline.score_stage``)."""
    return cot_scoring(cfg, variant, score_options(cfg, scorer))


def curve_scorer(cfg: DictConfig, loaded: Any, catalogue: Catalogue, rows: CurveRows, indist_variant: str | None,
                 tracker: Tracker) -> Callable[[int, int], list[dict[str, Any]]]:
    """The function the fit loop calls at each curve point (``flanlab.training.loop.CurveHook``): it scores
    ``rows`` zero-shot with every scoring variant of the cell (the model goes to ``scoring.device``; the loop puts
    it back), logs the point to ``tracker`` against the step, and returns the points."""
    variants = list(dict.fromkeys(str(v) for v in cfg.template.eval_variants))

    def score(step: int, tokens: int) -> list[dict[str, Any]]:
        scorer = make_scorer(loaded, cfg.scoring, cpu_bf16=bool(cfg.model.cpu_bf16))
        passes = {v: pass_options(cfg, scorer, v) for v in variants}
        indist = (indist_variant, pass_options(cfg, scorer, indist_variant)) if indist_variant else None
        points = score_point(scorer, catalogue, rows, passes, indist, step, tokens)
        tracker.log(point_metrics(points), step=step)
        log.info("curve point at step %d (%d tokens): %s in %.1f s", step, tokens,
                 ", ".join(f"{p['variant']} {p['score']['mean']:.3f}" for p in points), points[0]["seconds"])
        return points

    return score
