"""The prompt-semantics study's tables (docs/variants.md): the train × eval matrix, instruction reliance, override
rates, format floors and template spread.

Every number is the report's estimand (templates → tasks → clusters per seed, then seeds) with the hierarchical
bootstrap of ``flanlab.analysis.stats``; differences are paired on seeds and on the same scored items.

* **reliance**: accuracy under ``instruction`` minus accuracy under ``null_prompt``, same model, same items;
* **override rate**: under ``delusive_task``, ``negated`` and ``verbalizer_reversed``, the share of items where
  the prediction follows the *stated* task rather than the original one (items where the two agree are left out);
* **format floor**: a guesser uniform over all options (chance), one uniform over the gold's answer type (the
  format-aware guesser), the majority answer, and the ``simplified``-trained model;
* **template spread**: max − min, IQR and SD of the template scores per task (mean over tasks), the rank stability
  of the training arms across templates (Kendall τ) and the accuracy of the template ensemble.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from flanlab.analysis.collect import GroupData, TaskKey, arm_of
from flanlab.analysis.stats import MEAN_ROW, RATIO, compare
from flanlab.estimand.bootstrap import MIN_SEEDS_FOR_P, hierarchical_bootstrap, holm
from flanlab.estimand.rollup import MEAN_KEY, clusters_and_mean
from flanlab.templates.variants import OVERRIDE_VARIANTS, SEMANTIC_VARIANTS, VARIANTS

NULL, INSTRUCTION = "null_prompt", "instruction"


def is_semantics(groups: dict[tuple, GroupData]) -> bool:
    """Whether any model was scored with a prompt-semantics variant."""
    return any(v in SEMANTIC_VARIANTS for _, v in groups)


def _levels(boot: dict) -> list[tuple[str, tuple]]:
    clusters = sorted(k[1] for k in boot if isinstance(k, tuple) and k[0] == "cluster")
    return [*((c, ("cluster", c)) for c in clusters), (MEAN_ROW, MEAN_KEY)]


def matrix_table(ablation: pd.DataFrame) -> pd.DataFrame:
    """Long: one row per (training arm, scoring variant), the held-out mean and its CI, in variant order."""
    if ablation.empty:
        return pd.DataFrame()
    rows = ablation[ablation["cluster"] == MEAN_ROW]
    cols = [c for c in ("label", "arm", "eval_variant", "seeds", "score", "ci_low", "ci_high", "ci_kind") if c in rows]
    rank = {v: i for i, v in enumerate(VARIANTS)}
    out = rows[cols].copy()
    out["_r"] = out["eval_variant"].map(lambda v: rank.get(v, 99))
    return out.sort_values(["arm", "_r"], kind="stable").drop(columns="_r").reset_index(drop=True)


def reliance_table(groups: dict[tuple, GroupData], *, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Per arm and cluster (and the mean): instruction − null accuracy, paired, with CI, p and Holm's p."""
    rows = []
    for arm in dict.fromkeys(a for a, _ in groups):
        a, b = groups.get((arm, INSTRUCTION)), groups.get((arm, NULL))
        test = compare(a, b, n_resamples=n_resamples, seed=seed) if a is not None and b is not None else None
        if test is None:
            continue
        for cluster, key in _levels(test):
            r = test[key]
            rows.append({"arm": arm, "cluster": cluster, "reliance": r["diff"], "ci_low": r["ci_low"],
                         "ci_high": r["ci_high"], "p_value": r["p"], "seeds": test["seeds"],
                         "ci_kind": test["ci_kind"]})
    table = pd.DataFrame(rows)
    if not table.empty:
        table["p_holm"] = holm(table["p_value"].to_numpy())
    return table


def override_ratio(group: GroupData) -> RATIO:
    """Follows-the-stated-task as a ratio: numerator the follows, denominator the items that tell."""
    return {k: (np.nan_to_num(o), (~np.isnan(o)).astype(float)) for k, o in group.override.items()}


def override_table(groups: dict[tuple, GroupData], *, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Per (arm, override variant) and cluster (and the mean): the override rate with its hierarchical CI and the
    number of items that tell (stated and original answers differ)."""
    rows = []
    for (arm, variant), group in groups.items():
        if variant not in OVERRIDE_VARIANTS or not group.override:
            continue
        ratio = override_ratio(group)
        if not any(den.sum() for _, den in ratio.values()):
            continue
        boot = hierarchical_bootstrap(ratio, n_resamples, seed, resample_seeds=len(group.seeds) >= MIN_SEEDS_FOR_P)
        for cluster, key in _levels(boot):
            told = sum(int(den.sum()) for (c, _), (_, den) in ratio.items() if cluster in (MEAN_ROW, c))
            r = boot[key]
            rows.append({"arm": arm, "eval_variant": variant, "cluster": cluster, "override": r["value"],
                         "ci_low": r["ci_low"], "ci_high": r["ci_high"], "items": told, "seeds": len(group.seeds),
                         "ci_kind": boot["ci_kind"]})
    return pd.DataFrame(rows)


def _cluster_mean(values: dict[TaskKey, float]) -> dict[str, float]:
    """Tasks → clusters, then the mean over clusters, by the estimand (``flanlab.scoring.estimand``)."""
    clusters, mean = clusters_and_mean({k: v for k, v in values.items() if np.isfinite(v)})
    return {**clusters, MEAN_ROW: mean}


def floor_table(groups: dict[tuple, GroupData], ablation: pd.DataFrame) -> pd.DataFrame:
    """The floors a score should be read against, per cluster and the mean: two random guessers, the majority
    answer, and the ``simplified``-trained and untuned models scored with instructions (with CIs)."""
    scored = next((g for (_, v), g in groups.items() if v == INSTRUCTION), None)
    if scored is None:
        return pd.DataFrame()
    rows = []
    for name, key in (("uniform over all options (chance)", "chance"),
                      ("uniform over the gold's answer type (format-aware)", "chance_given_type"),
                      ("majority answer", "majority")):
        for cluster, value in _cluster_mean({k: m[key] for k, m in scored.meta.items()}).items():
            rows.append({"floor": name, "cluster": cluster, "score": value, "ci_low": np.nan, "ci_high": np.nan})
    for arm in ("simplified", "untuned"):
        part = ablation[(ablation["arm"] == arm) & (ablation["eval_variant"] == INSTRUCTION)] \
            if not ablation.empty else ablation
        for _, r in part.iterrows():
            rows.append({"floor": f"{arm}-trained model, scored with instructions" if arm != "untuned"
                         else "untuned model, scored with instructions", "cluster": r["cluster"], "score": r["score"],
                         "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
    return pd.DataFrame(rows)


def template_scores(group: GroupData) -> dict[TaskKey, np.ndarray]:
    """Per task, each template's accuracy over every seed and example."""
    with np.errstate(invalid="ignore"):
        return {k: np.nanmean(c, axis=(0, 2)) for k, c in group.correct.items()}


def spread_table(groups: dict[tuple, GroupData], cells: Sequence[dict], variant: str = INSTRUCTION,
                 *, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Per arm scored with ``variant``: max − min, IQR and SD of template scores (mean over tasks), the mean
    template score, and the template ensemble's accuracy with its CI; ``kendall_tau`` (the same for every row)
    is the mean rank agreement of the arms between pairs of templates."""
    arms = {a: g for (a, v), g in groups.items() if v == variant}
    tau = arm_rank_stability(arms)
    rows = []
    for arm, group in arms.items():
        per_task = template_scores(group)
        stats = [(np.ptp(v), np.subtract(*np.percentile(v, [75, 25])), np.std(v)) for v in per_task.values()
                 if v.size and np.isfinite(v).all()]
        ens = ensemble_ratio([c for c in cells if arm_of(c) == arm], variant, group.seeds)
        boot = hierarchical_bootstrap(ens, n_resamples, seed, resample_seeds=len(group.seeds) >= MIN_SEEDS_FOR_P) \
            if ens else {}
        e = boot.get(MEAN_KEY, {})
        size = max((v.size for v in per_task.values()), default=0)
        rows.append({"arm": arm, "eval_variant": variant, "templates": size,
                     "range": _mean(s[0] for s in stats), "iqr": _mean(s[1] for s in stats),
                     "sd": _mean(s[2] for s in stats), "mean_template": _cluster_mean(
                         {k: float(np.mean(v)) for k, v in per_task.items()})[MEAN_ROW],
                     "ensemble": e.get("value", np.nan), "ensemble_ci_low": e.get("ci_low", np.nan),
                     "ensemble_ci_high": e.get("ci_high", np.nan), "kendall_tau": tau})
    return pd.DataFrame(rows)


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


def arm_rank_stability(arms: dict[str, GroupData]) -> float:
    """Mean Kendall τ, over tasks and pairs of templates, between the arms' orders on the two templates
    (NaN with fewer than three arms or two templates)."""
    if len(arms) < 3:
        return float("nan")
    scores = {a: template_scores(g) for a, g in arms.items()}
    taus = []
    for task in set.intersection(*(set(s) for s in scores.values())):
        table = np.array([scores[a][task] for a in arms])  # [arms, templates]
        if table.ndim != 2 or table.shape[1] < 2:
            continue
        for i, j in itertools.combinations(range(table.shape[1]), 2):
            t = kendalltau(table[:, i], table[:, j]).statistic
            if np.isfinite(t):
                taus.append(float(t))
    return _mean(taus)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def ensemble_correct(templates: Sequence[dict]) -> list[float] | None:
    """Per example: 1 where the option with the highest mean log-probability over templates (each template's
    option log-likelihoods normalised to a distribution) is the gold one. None if any example lacks scores."""
    preds = [t.get("predictions") or [] for t in templates]
    if not preds or not preds[0] or any(len(p) != len(preds[0]) for p in preds):
        return None
    out = []
    for example in zip(*preds, strict=True):
        scores = [d.get("loglik") or [] for d in example]
        if not scores[0] or any(len(s) != len(scores[0]) for s in scores) or example[0].get("gold_index") is None:
            return None
        mean = _log_softmax(np.array(scores, dtype=float)).mean(axis=0)
        out.append(float(int(np.argmax(mean)) == int(example[0]["gold_index"])))
    return out


def ensemble_ratio(cells: Sequence[dict], variant: str, seeds: Sequence[int]) -> RATIO:
    """The template ensemble's correct flags as ``[seeds, 1, examples]`` ratios, per task."""
    found: dict[TaskKey, dict[int, list[float]]] = {}
    for cell in cells:
        block = (cell.get("zeroshot") or {}).get(variant) or {}
        by_task: dict[TaskKey, list[dict]] = {}
        for t in block.get("templates", []):
            by_task.setdefault((t["cluster"], t["task"]), []).append(t)
        for key, templates in by_task.items():
            flags = ensemble_correct(templates)
            if flags is not None:
                found.setdefault(key, {}).setdefault(int(cell["cell"]["seed"]), flags)
    out: RATIO = {}
    for key, by_seed in found.items():
        n = max(len(v) for v in by_seed.values())
        arr = np.full((len(seeds), 1, n), np.nan)
        for i, s in enumerate(seeds):
            if s in by_seed:
                arr[i, 0, : len(by_seed[s])] = by_seed[s]
        out[key] = (np.nan_to_num(arr), (~np.isnan(arr)).astype(float))
    return out
