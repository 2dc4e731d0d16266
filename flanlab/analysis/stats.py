"""Summaries with uncertainty: one estimand, hierarchical bootstrap CIs, paired tests, Holm.

The estimand is FLAN's everywhere: per seed, the mean over templates, then over tasks (a cluster's score),
then the mean over seeds; the held-out ``"mean"`` row averages the clusters (equal weight, whatever their
number of tasks). CIs come from a hierarchical bootstrap (seeds, then examples within each drawn seed, stratified
by task); with fewer than 3 seeds they resample examples only (``ci_kind == "examples"``) and no p-value is given.
Comparisons are paired on seed values and on the examples; ``p_holm`` corrects every p-value of a table (Holm).
Format and content are shown apart: ``type_acc`` (the answer has the right type) and ``acc_given_type`` (a ratio
estimator: right answers among type-right ones), wherever the results carry ``type_correct``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from flanlab.analysis.collect import GroupData, TaskKey
from flanlab.estimand.bootstrap import (
    MIN_SEEDS_FOR_P,
    draw_hierarchical,
    hierarchical_bootstrap,
    hierarchical_estimates,
    holm,
    identity_draws,
    paired_hierarchical_bootstrap,
)
from flanlab.estimand.rollup import MEAN_KEY

MEAN_ROW = "mean"  # the held-out mean row: mean over clusters of the cluster estimand
RATIO = dict[TaskKey, tuple[np.ndarray, np.ndarray]]
DIFF_COLUMNS = ("diff_vs_ref", "diff_ci_low", "diff_ci_high", "p_value", "paired_seeds")


def accuracy_ratio(group: GroupData) -> RATIO:
    """Accuracy as a ratio estimator: numerator = correct, denominator = 1 for every scored example."""
    return {k: (np.nan_to_num(c), (~np.isnan(c)).astype(float)) for k, c in group.correct.items()}


def type_ratio(group: GroupData) -> RATIO:
    """Type accuracy: right-type answers among the examples with a type verdict."""
    return {k: (np.nan_to_num(t), (~np.isnan(t)).astype(float)) for k, t in group.types.items()}


def given_type_ratio(group: GroupData) -> RATIO:
    """Accuracy given type: ``sum(correct & type_correct) / sum(type_correct)`` per template."""
    out = {}
    for k, t in group.types.items():
        right_type = np.nan_to_num(t)
        out[k] = (np.nan_to_num(group.correct[k]) * right_type, right_type)
    return out


def _level_keys(clusters: Sequence[str]) -> list[tuple[str, tuple]]:
    return [*((c, ("cluster", c)) for c in clusters), (MEAN_ROW, MEAN_KEY)]


def _seed_sds(ratio: RATIO, n_seeds: int) -> dict[tuple, float]:
    """Standard deviation over seeds of every level's per-seed value (empty with one seed)."""
    if n_seeds < 2:
        return {}
    per_seed: dict[tuple, list[float]] = {}
    for s in range(n_seeds):
        one = {k: (num[s:s + 1], den[s:s + 1]) for k, (num, den) in ratio.items()}
        point = hierarchical_estimates(one, identity_draws(1, {k: v[0].shape[2] for k, v in one.items()}))
        for key, value in point.items():
            if np.isfinite(value[0]):
                per_seed.setdefault(key, []).append(float(value[0]))
    return {k: float(np.std(v, ddof=1)) for k, v in per_seed.items() if len(v) > 1}


def _metric(prefix: str, key: tuple, boot: dict | None) -> dict:
    """``prefix``, ``prefix_ci_low``, ``prefix_ci_high`` of one level (NaN when absent)."""
    if boot is None or key not in boot:
        return {prefix: np.nan, f"{prefix}_ci_low": np.nan, f"{prefix}_ci_high": np.nan}
    r = boot[key]
    return {prefix: r["value"], f"{prefix}_ci_low": r["ci_low"], f"{prefix}_ci_high": r["ci_high"]}


def _score(key: tuple, boot: dict) -> dict:
    """The accuracy of one level as ``score``, ``ci_low``, ``ci_high``."""
    r = boot[key]
    return {"score": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}


def _short(text: str, width: int = 30) -> str:
    text = " ".join(str(text).split())
    if not text:
        return '""'
    return text if len(text) <= width else text[: width - 1] + "…"


def group_rows(labels: dict, group: GroupData, *, n_resamples: int, seed: int,
               level: float) -> tuple[list[dict], list[dict]]:
    """The main-table rows (one per cluster, then ``"mean"``) and the per-task rows of one group."""
    acc = accuracy_ratio(group)
    n_seeds = len(group.seeds)
    draws = draw_hierarchical(n_seeds, {k: v.shape[2] for k, v in group.correct.items()}, n_resamples,
                              np.random.default_rng(seed), resample_seeds=n_seeds >= MIN_SEEDS_FOR_P)
    boot = hierarchical_bootstrap(acc, level=level, draws=draws)
    typed = None, None
    if group.types:  # the same resamples: format, content and accuracy vary together
        typed = (hierarchical_bootstrap(type_ratio(group), level=level, draws=draws),
                 hierarchical_bootstrap(given_type_ratio(group), level=level, draws=draws))
    base = {**labels, "train_variant": group.info["train_variant"], "seeds": len(group.seeds),
            "ci_kind": boot["ci_kind"]}
    clusters = sorted({c for c, _ in group.correct})
    sds = _seed_sds(acc, len(group.seeds))
    rows = []
    for cluster, key in _level_keys(clusters):
        n = sum(int(a.shape[2]) for (c, _), a in group.correct.items() if cluster in (MEAN_ROW, c))
        rows.append({**base, "cluster": cluster, "n": n, **_score(key, boot),
                     "seed_sd": sds.get(key, np.nan),
                     **_metric("type_acc", key, typed[0]), **_metric("acc_given_type", key, typed[1])})
    tasks = []
    for (cluster, task), meta in sorted(group.meta.items()):
        key = ("task", cluster, task)
        if key not in boot:
            continue
        top = sorted(meta["pick_rate"].items(), key=lambda kv: -kv[1])[:3]
        tasks.append({**base, "cluster": cluster, "task": task, "n": int(group.correct[(cluster, task)].shape[2]),
                      **_score(key, boot), "chance": meta["chance"], "majority": meta["majority"],
                      **_metric("type_acc", key, typed[0]), **_metric("acc_given_type", key, typed[1]),
                      "chance_given_type": meta["chance_given_type"],
                      "top_picks": ", ".join(f"{_short(o)} ({r:.2f})" for o, r in top)})
    return rows, tasks


def aligned(a: GroupData, b: GroupData) -> tuple[RATIO, RATIO, list[int]]:
    """Both groups' accuracy ratios restricted to their common seed values and tasks with the same examples."""
    seeds = sorted(set(a.seeds) & set(b.seeds))
    ia, ib = [a.seeds.index(s) for s in seeds], [b.seeds.index(s) for s in seeds]
    ra, rb = accuracy_ratio(a), accuracy_ratio(b)
    keys = [k for k in sorted(set(ra) & set(rb)) if ra[k][0].shape[2] == rb[k][0].shape[2]]
    pick = lambda r, idx: {k: (r[k][0][idx], r[k][1][idx]) for k in keys}  # noqa: E731
    return pick(ra, ia), pick(rb, ib), seeds


def compare(a: GroupData, b: GroupData, *, n_resamples: int = 1000, seed: int = 0,
            level: float = 0.95) -> dict | None:
    """Paired hierarchical bootstrap of ``a - b`` (same seeds, same examples), or None with nothing in common."""
    ra, rb, seeds = aligned(a, b)
    if not seeds or not ra:
        return None
    return paired_hierarchical_bootstrap(ra, rb, n_resamples, seed, level)


def paired_differences(groups: dict[tuple, GroupData], pairs: Sequence[tuple[str, tuple, tuple]], *,
                       n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """A study's table of named differences ``a − b`` on the held-out mean (``pairs``: name, a, b; pairs with a
    group missing are left out), paired on seeds and examples, Holm-corrected over the table."""
    rows = []
    for name, a, b in pairs:
        test = compare(groups[a], groups[b], n_resamples=n_resamples, seed=seed) if a in groups and b in groups \
            else None
        if test is None or MEAN_KEY not in test:
            continue
        r = test[MEAN_KEY]
        rows.append({"comparison": name, "diff": r["diff"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "p_value": r["p"], "seeds": test["seeds"], "ci_kind": test["ci_kind"]})
    table = pd.DataFrame(rows)
    if not table.empty:
        table["p_holm"] = holm(table["p_value"].to_numpy(dtype=float))
    return table


def _diff_cols(test: dict | None, key: tuple) -> dict:
    if test is None or key not in test:
        return dict.fromkeys(DIFF_COLUMNS, np.nan)
    r = test[key]
    return {"diff_vs_ref": r["diff"], "diff_ci_low": r["ci_low"], "diff_ci_high": r["ci_high"], "p_value": r["p"],
            "paired_seeds": test["seeds"]}


def summarize(groups: dict[tuple, GroupData], by: Sequence[str], reference: tuple | None = None, *,
              n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The main table (per group of ``by``: each cluster and the ``"mean"`` row) and the per-task table.

    ``reference`` (a key of ``groups``) is what every other group is compared with: ``diff = group - reference``,
    paired on seeds and examples; ``p_value`` only with ≥ ``MIN_SEEDS_FOR_P`` paired seeds. ``p_holm`` is Holm's
    correction over every p-value of the table (``apply_holm`` can widen the family)."""
    rows, tasks = [], []
    ref = groups.get(reference) if reference is not None else None
    for gkey, group in groups.items():
        if not group.correct:
            continue  # nothing scored per example (results without ``correct`` lists)
        labels = dict(zip(by, gkey, strict=True))
        main, per_task = group_rows(labels, group, n_resamples=n_resamples, seed=seed, level=level)
        test = compare(group, ref, n_resamples=n_resamples, seed=seed, level=level) \
            if ref is not None and gkey != reference else None
        clusters = [r["cluster"] for r in main]
        for row, (_, key) in zip(main, _level_keys(clusters[:-1]), strict=True):
            row |= _diff_cols(test, key)
        rows += main
        tasks += per_task
    table = pd.DataFrame(rows)
    if not table.empty:
        table["p_holm"] = holm(table["p_value"].to_numpy())
    return table, pd.DataFrame(tasks)


def apply_holm(table: pd.DataFrame, more: Sequence[float] = ()) -> tuple[pd.DataFrame, list[float]]:
    """Recompute ``p_holm`` over the table's p-values plus ``more`` ones; return the table and those adjusted."""
    p = [*table["p_value"].tolist(), *more] if not table.empty else list(more)
    adjusted = holm(p)
    table = table.copy()
    if not table.empty:
        table["p_holm"] = adjusted[: len(table)]
    return table, [float(x) for x in adjusted[len(table):]]


def add_baseline(summary: pd.DataFrame, baseline_arm: str = "untuned") -> pd.DataFrame:
    """Add ``baseline``: the untuned (or random-init) model's score with the same scoring variant and cluster."""
    if summary.empty or "arm" not in summary:
        return summary
    base = summary[summary["arm"] == baseline_arm][["eval_variant", "cluster", "score"]]
    return summary.merge(base.rename(columns={"score": "baseline"}), on=["eval_variant", "cluster"], how="left")


def needs_seeds_note(table: pd.DataFrame) -> str:
    """The footnote for a table where some rows have too few seeds for a p-value."""
    if table.empty or (table["seeds"] >= MIN_SEEDS_FOR_P).all():
        return ""
    return (f"p needs ≥{MIN_SEEDS_FOR_P} seeds: blank where fewer; CIs marked † resample examples only "
            "(1–2 seeds: training randomness not covered).")
