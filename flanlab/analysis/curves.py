"""When does transfer happen? The held-out curves of a grid's cells (``scoring.curve_every``), across seeds.

Every cell of an arm scores the same rows at the same steps (``flanlab.scoring.curves``), so each curve point of an
arm is a small group like the report's (seeds × templates × rows per task) and gets the report's estimand and
hierarchical bootstrap (``flanlab.analysis.stats``): per seed, templates, then tasks, then clusters; then the mean
over seeds. One set of resamples (seeds with replacement, then each drawn seed's rows per task; rows only with fewer
than 3 seeds) serves every step of an arm, so a resample is a whole resampled curve. The tables:

* ``points``: per arm, scoring variant, metric (``score``, ``type_acc`` = format, ``acc_given_type`` = content,
  ``indist``), level (a cluster or the held-out mean) and step: the seed mean, its 95% CI, the lowest and highest
  seed (the band of the figure) and the chance and majority lines;
* ``crossings``: per arm, variant, metric and level, against chance (uniform over the options for the score,
  uniform over the options' answer types for format, uniform over the options of the gold's type for content):
  ``first_step``, the step from which the seed mean stays above chance at every later point, with a 95% interval
  (percentiles, over the resampled curves, of each one's such step; ``never_share`` = resampled curves that do not
  end above it); ``sure_step``, the step from which the 95% CI lies wholly above chance at every later point
  (``above_chance`` says whether there is one); and the score at the last step. "Stays above" keeps an untrained
  model that sits above chance by noise at step 0, or a brief rise, from counting as transfer;
* ``lead``: instruction − no_template (both scored with instructions) at every step, paired on seeds and rows, and
  ``lead_summary``: the same crossing read against zero.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from flanlab.analysis.collect import GroupData, arm_of, group_cells
from flanlab.analysis.stats import MEAN_ROW, accuracy_ratio, given_type_ratio, type_ratio
from flanlab.analysis.tables import VARIANT_ORDER
from flanlab.estimand.bootstrap import (
    MIN_SEEDS_FOR_P,
    Draws,
    draw_hierarchical,
    hierarchical_estimates,
    identity_draws,
)
from flanlab.estimand.rollup import MEAN_KEY, levels
from flanlab.scoring.curves import METRICS

LEVEL = 0.95
FIGURE = "transfer_curves"  # figures/transfer_curves.{png,pdf} (flanlab.analysis.curves_report)
LEAD = ("instruction", "no_template", "instruction")  # (arm, minus arm, scoring variant)
RATIOS = {"score": accuracy_ratio, "type_acc": type_ratio, "acc_given_type": given_type_ratio}
CHANCE = {"score": "chance", "type_acc": "type_chance", "acc_given_type": "chance_given_type"}


@dataclass
class Curve:
    """One arm scored one way on one held-out set, every seed: its steps, per step a ``GroupData`` of the points'
    per-example hits, the mean tokens seen and each seed's in-distribution accuracy."""

    key: tuple[str, str, str]  # (held-out clusters, arm, scoring variant)
    seeds: list[int]
    steps: list[int]
    groups: dict[int, GroupData]
    tokens: dict[int, float]
    indist: dict[int, list[float]] = field(default_factory=dict)


def _entries(point: dict) -> list[dict]:
    """A point's tasks as template entries of the shape ``group_cells`` reads (``zeroshot`` blocks)."""
    out = []
    for task, e in point["tasks"].items():
        types = e.get("type_correct") or [None] * len(e["templates"])
        for tid, correct, typed in zip(e["templates"], e["correct"], types, strict=True):
            out.append({"task": task, "cluster": e["cluster"], "template_id": tid, "correct": correct,
                        "type_correct": typed, "chance": e.get("chance"), "pick_rate": e.get("pick_rate") or {},
                        "other_metrics": {k: e[k] for k in ("chance_given_type", "majority") if e.get(k) is not None}})
    return out


def _by_key(cells: list[dict]) -> dict[tuple[str, str, str], dict[int, dict[int, dict]]]:
    """(held-out clusters, arm, variant) -> seed -> step -> point; of two cells of one seed, the first read wins."""
    out: dict[tuple[str, str, str], dict[int, dict[int, dict]]] = {}
    owner: dict[tuple, int] = {}
    for n, cell in enumerate(cells):
        heldout, seed = "+".join(cell["cell"]["heldout"]), int(cell["cell"]["seed"])
        for point in cell.get("curve") or []:
            key = (heldout, arm_of(cell), str(point["variant"]))
            if owner.setdefault((key, seed), n) == n:
                out.setdefault(key, {}).setdefault(seed, {})[int(point["step"])] = point
    return out


def curves_of(cells: list[dict]) -> list[Curve]:
    """Every (held-out set, arm, variant) with curve points, on the steps all of its seeds reached."""
    out = []
    for key, by_seed in _by_key(cells).items():
        seeds = sorted(by_seed)
        steps = sorted(set.intersection(*(set(by_seed[s]) for s in seeds)))
        if not steps:
            continue
        groups, tokens, indist = {}, {}, {}
        for step in steps:
            pseudo = [{"cell": {"seed": s, "train_variant": key[1], "arm": key[1]}, "model": {"source": "curve"},
                       "zeroshot": {key[2]: {"templates": _entries(by_seed[s][step])}}} for s in seeds]
            groups[step] = next(iter(group_cells(pseudo, lambda c, v: (v,)).values()))
            tokens[step] = float(np.mean([by_seed[s][step]["tokens"] for s in seeds]))
            blocks = [by_seed[s][step].get("indist") for s in seeds]
            if all(b is not None for b in blocks):
                indist[step] = [float(b["mean"]) for b in blocks]
        out.append(Curve(key, seeds, steps, groups, tokens, indist))
    return out


def _draws(curve: Curve, n_resamples: int, seed: int) -> Draws:
    """One set of resamples for every step of ``curve`` (and of any curve with the same seeds and rows)."""
    first = curve.groups[curve.steps[0]]
    sizes = {k: int(v.shape[2]) for k, v in first.correct.items()}
    return draw_hierarchical(len(curve.seeds), sizes, n_resamples, np.random.default_rng(seed),
                             resample_seeds=len(curve.seeds) >= MIN_SEEDS_FOR_P)


def series(curve: Curve, metric: str, draws: Draws) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per level (a cluster, or ``"mean"``): the seed mean at each step ``[T]``, the resampled curves ``[R, T]``
    and each seed's value ``[S, T]``."""
    point, boot, per_seed = {}, {}, {}
    for t, step in enumerate(curve.steps):
        ratio = RATIOS[metric](curve.groups[step])
        if not ratio:
            return {}
        sizes = {k: int(v[0].shape[2]) for k, v in ratio.items()}
        ident = hierarchical_estimates(ratio, identity_draws(len(curve.seeds), sizes))
        resampled = hierarchical_estimates(ratio, draws)
        for s in range(len(curve.seeds)):
            one = {k: (num[s:s + 1], den[s:s + 1]) for k, (num, den) in ratio.items()}
            for key, value in hierarchical_estimates(one, identity_draws(1, sizes)).items():
                per_seed.setdefault(key, np.full((len(curve.seeds), len(curve.steps)), np.nan))[s, t] = value[0]
        for key in ident:
            if key[0] == "task":
                continue
            point.setdefault(key, np.full(len(curve.steps), np.nan))[t] = ident[key][0]
            boot.setdefault(key, np.full((resampled[key].shape[0], len(curve.steps)), np.nan))[:, t] = resampled[key]
    return {_level(k): (point[k], boot[k], per_seed[k]) for k in point}


def _level(key: tuple) -> str:
    return MEAN_ROW if key == MEAN_KEY else str(key[1])


def baselines(curve: Curve) -> dict[str, dict[str, float]]:
    """Per level: chance, type chance (uniform over answer types), chance given type and the majority answer, rolled
    up like the scores from each task's rows (the same at every step)."""
    meta = curve.groups[curve.steps[0]].meta
    per_task = {"chance": {k: m["chance"] for k, m in meta.items()},
                "chance_given_type": {k: m["chance_given_type"] for k, m in meta.items()},
                "majority": {k: m["majority"] for k, m in meta.items()}}
    per_task["type_chance"] = {k: m["chance"] / m["chance_given_type"] if m["chance_given_type"] else np.nan
                               for k, m in meta.items()}
    out: dict[str, dict[str, float]] = {}
    for name, tasks in per_task.items():
        for key, value in levels(tasks).items():
            if key[0] != "task":
                out.setdefault(_level(key), {})[name] = float(value)
    return out


def _stays_above(above: np.ndarray) -> np.ndarray:
    """Per row of booleans (steps last): the index from which every later entry is true; ``n_steps`` where the
    last one is false (never for good)."""
    above = np.atleast_2d(above)
    n = above.shape[1]
    below = ~above
    last_below = np.where(below.any(axis=1), n - 1 - np.argmax(below[:, ::-1], axis=1), -1)
    return last_below + 1


def crossing(steps: list[int], point: np.ndarray, boot: np.ndarray, threshold: float) -> dict:
    """When a curve rises above ``threshold`` for good (from that step on, every later point is above it; a dip
    back to chance, or an untrained model above chance by noise at step 0, does not count): the point estimate,
    its percentile interval over the resampled curves (``never_share``: resamples that do not end above it; an
    undefined resampled value counts as not above), and the first step from which the CI lies wholly above it."""
    never = steps[-1] + 1  # a curve that does not stay above the threshold
    grid = np.append(np.asarray(steps), never)
    first_at = int(_stays_above(np.asarray(point) > threshold)[0])
    firsts = grid[_stays_above(np.nan_to_num(boot, nan=-np.inf) > threshold)] if boot.size else np.array([])
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(firsts, [tail, 100 - tail], method="inverted_cdf") if firsts.size else (never, never)
    sure_at = int(_stays_above(_interval(boot)[0] > threshold)[0])
    return {"threshold": threshold, "first_step": steps[first_at] if first_at < len(steps) else None,
            "first_step_ci_low": _step_or_nan(low, never), "first_step_ci_high": _step_or_nan(high, never),
            "never_share": float((firsts == never).mean()) if firsts.size else 1.0,
            "sure_step": steps[sure_at] if sure_at < len(steps) else None, "above_chance": sure_at < len(steps)}


def _step_or_nan(x: float, never: int) -> float:
    return np.nan if x >= never else float(x)


def _interval(boot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per step, the percentile interval of the resampled values (NaN where none is defined)."""
    tail = (1 - LEVEL) / 2 * 100
    if boot.shape[0] == 0:
        return np.full(boot.shape[1], np.nan), np.full(boot.shape[1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN step stays NaN
        return np.nanpercentile(boot, tail, axis=0), np.nanpercentile(boot, 100 - tail, axis=0)


def curve_rows(curve: Curve, draws: Draws) -> tuple[list[dict], list[dict]]:
    """The ``points`` and ``crossings`` rows of one curve."""
    heldout, arm, variant = curve.key
    base = {"heldout": heldout, "arm": arm, "eval_variant": variant, "seeds": len(curve.seeds),
            "ci_kind": "seeds+examples" if len(curve.seeds) >= MIN_SEEDS_FOR_P else "examples"}
    lines = baselines(curve)
    points, crossings = [], []
    for metric in METRICS:
        for level, (value, boot, per_seed) in series(curve, metric, draws).items():
            low, high = _interval(boot)
            chance = lines.get(level, {}).get(CHANCE[metric], np.nan)
            majority = lines.get(level, {}).get("majority", np.nan) if metric == "score" else np.nan
            for t, step in enumerate(curve.steps):
                points.append({**base, "metric": metric, "level": level, "step": step, "tokens": curve.tokens[step],
                               "value": value[t], "ci_low": low[t], "ci_high": high[t],
                               "seed_min": _nan(np.nanmin, per_seed[:, t]), "seed_max": _nan(np.nanmax, per_seed[:, t]),
                               "chance": chance, "majority": majority})
            crossings.append({**base, "metric": metric, "level": level, "chance": chance,
                              **crossing(curve.steps, value, boot, chance), "last_step": curve.steps[-1],
                              "final": value[-1], "final_ci_low": low[-1], "final_ci_high": high[-1]})
    for step, values in curve.indist.items():
        points.append({**base, "metric": "indist", "level": MEAN_ROW, "step": step, "tokens": curve.tokens[step],
                       "value": float(np.mean(values)), "ci_low": np.nan, "ci_high": np.nan,
                       "seed_min": min(values), "seed_max": max(values), "chance": np.nan, "majority": np.nan})
    return points, crossings


def _nan(fn, values: np.ndarray) -> float:
    """``fn`` over the finite values (NaN when there are none)."""
    finite = values[np.isfinite(values)]
    return float(fn(finite)) if finite.size else np.nan


def _on_steps(curve: Curve, steps: list[int]) -> Curve:
    return Curve(curve.key, curve.seeds, steps, {s: curve.groups[s] for s in steps},
                 {s: curve.tokens[s] for s in steps}, {s: v for s, v in curve.indist.items() if s in steps})


def _shapes(curve: Curve) -> dict:
    return {k: v.shape for k, v in curve.groups[curve.steps[0]].correct.items()}


def lead_rows(curves: list[Curve], n_resamples: int, seed: int) -> tuple[list[dict], list[dict]]:
    """instruction − no_template, both scored with instructions, at every common step and level: paired on seeds
    and rows (the same resamples for both arms), and when the difference first rises above zero."""
    by = {c.key: c for c in curves}
    rows, summary = [], []
    for heldout in dict.fromkeys(c.key[0] for c in curves):
        a, b = by.get((heldout, LEAD[0], LEAD[2])), by.get((heldout, LEAD[1], LEAD[2]))
        if a is None or b is None or a.seeds != b.seeds:
            continue
        steps = [s for s in a.steps if s in set(b.steps)]
        if not steps:
            continue
        a, b = _on_steps(a, steps), _on_steps(b, steps)
        if _shapes(a) != _shapes(b):
            continue  # not the same rows: no paired difference
        draws = _draws(a, n_resamples, seed)
        sa, sb = series(a, "score", draws), series(b, "score", draws)
        base = {"heldout": heldout, "comparison": f"{LEAD[0]} − {LEAD[1]}", "eval_variant": LEAD[2],
                "seeds": len(a.seeds)}
        for level in (lv for lv in sa if lv in sb):
            diff, boot = sa[level][0] - sb[level][0], sa[level][1] - sb[level][1]
            low, high = _interval(boot)
            rows += [{**base, "level": level, "step": st, "tokens": a.tokens[st], "diff": diff[t], "ci_low": low[t],
                      "ci_high": high[t]} for t, st in enumerate(steps)]
            summary.append({**base, "level": level, **crossing(steps, diff, boot, 0.0), "last_step": steps[-1],
                            "final": diff[-1], "final_ci_low": low[-1], "final_ci_high": high[-1]})
    return rows, summary


def _ordered(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Arms in the report's order, the arm's own scoring variant first, metrics as ``METRICS``, the mean first."""
    if frame.empty:
        return frame
    rank = {v: i for i, v in enumerate(VARIANT_ORDER)}
    metric = {m: i for i, m in enumerate([*METRICS, "indist"])}
    key = frame.apply(lambda r: tuple(
        (rank.get(r[c], 99), r[c]) if c in ("arm", "eval_variant") else (metric.get(r[c], 9), r[c]) if c == "metric"
        else (r[c] != MEAN_ROW, r[c]) if c == "level" else (0, r[c]) for c in by), axis=1)
    return frame.loc[key.sort_values().index].reset_index(drop=True)


def build_curves(cells: list[dict], *, n_resamples: int = 1000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Every table of the transfer curves, or nothing when no cell kept curve points."""
    curves = curves_of(cells)
    if not curves:
        return {}
    points, crossings = [], []
    for curve in curves:
        p, c = curve_rows(curve, _draws(curve, n_resamples, seed))
        points += p
        crossings += c
    lead, summary = lead_rows(curves, n_resamples, seed)
    keys = ["heldout", "arm", "eval_variant", "metric", "level"]
    return {"points": _ordered(pd.DataFrame(points), [*keys, "step"]),
            "crossings": _ordered(pd.DataFrame(crossings), keys),
            "lead": _ordered(pd.DataFrame(lead), ["heldout", "level", "step"]),
            "lead_summary": _ordered(pd.DataFrame(summary), ["heldout", "level"])}
