"""The template-mixing study's tables (experiments/template_mixing): each training arm scored zero-shot and k-shot.

Every score is the report's estimand with its hierarchical bootstrap CI, read from the report's long table (the
k-shot passes are the scoring variants named ``<variant>+<k>shot``). Differences are paired on seeds and items
(``flanlab.analysis.stats.compare``): every arm against the zero-shot-only arm (``instruction``) at the same k, and
k-shot against zero-shot within each arm, Holm-corrected together; p-values need 3 or more seeds. Type accuracy
(format) and accuracy given type (content) are kept apart, and the baselines come from the zero-shot rows.
"""

from __future__ import annotations

import pandas as pd

from flanlab.analysis.collect import GroupData
from flanlab.analysis.cot import baselines as zero_shot_baselines
from flanlab.analysis.stats import MEAN_ROW, paired_differences
from flanlab.scoring.fewshot import split_scored_name

REFERENCE_ARM = "instruction"  # zero-shot only
SKIPPED_ARMS = ("untuned",)  # the floor: shown, not tested


def is_mixing(groups: dict[tuple, GroupData]) -> bool:
    """Whether any model was scored k-shot."""
    return any(split_scored_name(v)[1] for _, v in groups)


def arm_table(ablation: pd.DataFrame) -> pd.DataFrame:
    """One row per (arm, scoring variant, shots) on the held-out mean: score, CI, format and content."""
    rows = ablation[ablation["cluster"] == MEAN_ROW]
    out = []
    for _, r in rows.iterrows():
        variant, shots = split_scored_name(r["eval_variant"])
        out.append({"arm": r["arm"], "label": r.get("label", r["arm"]), "variant": variant, "shots": shots,
                    "score": r["score"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                    "type_acc": r.get("type_acc"), "acc_given_type": r.get("acc_given_type"),
                    "seeds": int(r["seeds"]), "ci_kind": r["ci_kind"]})
    return pd.DataFrame(out)


def _pairs(groups: dict[tuple, GroupData]) -> list[tuple[str, tuple, tuple]]:
    arms = [a for a in dict.fromkeys(a for a, _ in groups) if a not in SKIPPED_ARMS]
    names = list(dict.fromkeys(v for _, v in groups))
    pairs = [(f"{a} − {REFERENCE_ARM}, {v}", (a, v), (REFERENCE_ARM, v)) for v in names for a in arms
             if a != REFERENCE_ARM]
    for a in arms:
        for v in names:
            base, shots = split_scored_name(v)
            if shots:
                pairs.append((f"{a}: {v} − {base}", (a, v), (a, base)))
    return pairs


def differences(groups: dict[tuple, GroupData], *, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Paired differences on the held-out mean, Holm-corrected over the table."""
    return paired_differences(groups, _pairs(groups), n_resamples=n_resamples, seed=seed)


def build_mixing(groups: dict[tuple, GroupData], ablation: pd.DataFrame, cells: list[dict], *,
                 n_resamples: int = 1000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Every table of the study, or nothing when no model was scored k-shot."""
    if not is_mixing(groups):
        return {}
    return {"table": arm_table(ablation), "baselines": zero_shot_baselines(cells),
            "differences": differences(groups, n_resamples=n_resamples, seed=seed)}
