"""The chain-of-thought study's tables (docs/cot.md): trained with or without CoT × scored directly or with CoT.

Every score is the report's estimand (templates, tasks, clusters per seed, then seeds) with its hierarchical
bootstrap CI, read from the report's long table. Differences are paired on seeds and examples
(``flanlab.analysis.stats.compare``): CoT − direct scoring within each arm, and with − without CoT training under
each scoring, Holm-corrected together; p-values need 3 or more seeds. Baselines: chance (uniform over the options),
the format-aware guesser (uniform over yes/no) and the majority answer, from the directly scored rows.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from flanlab.analysis.collect import GroupData, arm_of
from flanlab.analysis.stats import MEAN_ROW, paired_differences
from flanlab.templates.cot import COT

DIRECT = "instruction"
SCORING = {DIRECT: "direct", COT: "CoT"}


def is_cot(groups: dict[tuple, GroupData]) -> bool:
    """Whether any model was scored with the ``cot`` variant."""
    return any(v == COT for _, v in groups)


def trained_with_cot(arm: str) -> bool:
    return "+cot" in arm


def marker_rates(cells: list[dict]) -> dict[str, dict[str, float]]:
    """Per arm, over its cells' CoT-scored templates: missing markers, their rate, and the lenient accuracy."""
    sums: dict[str, list[float]] = {}
    for cell in cells:
        for t in (cell.get("zeroshot", {}).get(COT) or {}).get("templates", []):
            extra = t.get("other_metrics") or {}
            if "missing_marker" in extra:
                s = sums.setdefault(arm_of(cell), [0.0, 0.0, 0.0])
                s[0] += extra["missing_marker"]
                s[1] += t["n"]
                s[2] += extra.get("cot_lenient_acc", np.nan) * t["n"]
    return {arm: {"missing_marker": m, "missing_marker_rate": m / n, "lenient_acc": lenient / n}
            for arm, (m, n, lenient) in sums.items() if n}


def two_by_two(ablation: pd.DataFrame, cells: list[dict]) -> pd.DataFrame:
    """One row per (arm, scoring) on the held-out mean: score and CI, and the CoT marker counts."""
    if ablation.empty:
        return pd.DataFrame()
    rows = ablation[(ablation["cluster"] == MEAN_ROW) & ablation["eval_variant"].isin(list(SCORING))]
    rates = marker_rates(cells)
    out = []
    for _, r in rows.iterrows():
        rate = rates.get(r["arm"], {}) if r["eval_variant"] == COT else {}
        out.append({"arm": r["arm"], "label": r.get("label", r["arm"]), "cot_in_training": trained_with_cot(r["arm"]),
                    "scored": SCORING[r["eval_variant"]], "score": r["score"], "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"], "seeds": int(r["seeds"]), "ci_kind": r["ci_kind"],
                    "missing_marker": rate.get("missing_marker", np.nan),
                    "missing_marker_rate": rate.get("missing_marker_rate", np.nan),
                    "lenient_acc": rate.get("lenient_acc", np.nan)})
    return pd.DataFrame(out)


def baselines(cells: list[dict]) -> pd.DataFrame:
    """Chance, format-aware chance and the majority answer (the most common gold answer text per task), as means
    over the held-out tasks of the directly scored rows."""
    chance, typed, golds = [], [], {}
    for cell in cells:
        for t in (cell.get("zeroshot", {}).get(DIRECT) or {}).get("templates", []):
            chance.append(t.get("chance") if t.get("chance") is not None else np.nan)
            typed.append((t.get("other_metrics") or {}).get("chance_given_type", np.nan))
            golds.setdefault(t["task"], [p["gold"] for p in t.get("predictions", [])])
    if not golds:
        return pd.DataFrame()
    majority = [Counter(g).most_common(1)[0][1] / len(g) for g in golds.values() if g]
    return pd.DataFrame([{"baseline": "chance (uniform over the options)", "score": float(np.nanmean(chance))},
                         {"baseline": "format-aware guess (uniform over the gold's answer type)",
                          "score": float(np.nanmean(typed))},
                         {"baseline": "majority answer", "score": float(np.mean(majority))}])


def differences(groups: dict[tuple, GroupData], *, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Paired differences on the held-out mean: CoT − direct per arm; with − without CoT training per scoring."""
    arms = list(dict.fromkeys(a for a, v in groups if v == COT and a != "untuned"))
    pairs = [(f"{a}: CoT − direct", (a, COT), (a, DIRECT)) for a in arms]
    with_cot, without = [a for a in arms if trained_with_cot(a)], [a for a in arms if not trained_with_cot(a)]
    pairs += [(f"{w} − {b}, scored {SCORING[v]}", (w, v), (b, v)) for w in with_cot for b in without
              for v in SCORING]
    return paired_differences(groups, pairs, n_resamples=n_resamples, seed=seed)


def build_cot(groups: dict[tuple, GroupData], ablation: pd.DataFrame, cells: list[dict], *,
              n_resamples: int = 1000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Every table of the CoT study, or nothing when no model was scored with ``cot``."""
    if not is_cot(groups):
        return {}
    return {"table": two_by_two(ablation, cells), "baselines": baselines(cells),
            "differences": differences(groups, n_resamples=n_resamples, seed=seed)}
