"""Summaries with uncertainty: pooled means, bootstrap 95% CIs, paired tests against a reference variant.

Input is ``collect.example_frame``: one template-averaged score per scored example. A group's score
is the mean over its examples, pooled over seeds and tasks; with the same number of rows per task
(``data.max_eval_per_task``) that equals the mean over seeds of the task-averaged cluster score.
The row ``cluster == "all"`` pools every held-out cluster of the group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

ALL = "all"
PAIR_KEYS = ["seed", "heldout", "cluster", "task", "example"]


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(PAIR_KEYS, kind="stable")


def summarize(examples: pd.DataFrame, by: Sequence[str], reference: dict[str, object] | None = None,
              *, n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """One row per group of ``by`` and cluster (plus ``"all"``): score, CI, seeds, and the paired test.

    ``reference`` names the group (values of ``by``) every other group is compared with, on the
    examples both scored (same seed, held-out set, task and row): ``diff = group - reference``.
    """
    from flanlab.scoring.bootstrap import bootstrap_ci, paired_bootstrap

    if examples.empty:
        return pd.DataFrame()
    by = list(by)
    pooled = examples.assign(cluster=ALL)
    data = pd.concat([examples, pooled], ignore_index=True)
    ref_frames = {}
    if reference is not None:
        mask = np.logical_and.reduce([data[k] == v for k, v in reference.items()])
        ref_frames = {c: _ordered(f) for c, f in data[mask].groupby("cluster")}
    rows = []
    for values, group in data.groupby([*by, "cluster"], sort=False):
        group = _ordered(group)
        scores = group["score"].to_numpy()
        low, high = bootstrap_ci(scores, n_resamples=n_resamples, seed=seed, level=level)
        per_seed = group.groupby("seed")["score"].mean()
        row = dict(zip([*by, "cluster"], values, strict=True))
        row |= {"score": float(scores.mean()), "ci_low": float(low), "ci_high": float(high),
                "seeds": int(per_seed.size), "seed_sd": float(per_seed.std(ddof=1)) if per_seed.size > 1 else np.nan,
                "n": int(scores.size)}
        ref = ref_frames.get(row["cluster"])
        is_ref = reference is not None and all(row[k] == v for k, v in reference.items())
        if ref is not None and not is_ref:
            both = group.merge(ref, on=PAIR_KEYS, suffixes=("", "_ref"))
            if len(both):
                test = paired_bootstrap(both["score"].to_numpy(), both["score_ref"].to_numpy(),
                                        n_resamples=n_resamples, seed=seed)
                row |= {"diff_vs_ref": float(test["diff"]), "diff_ci_low": float(test["ci_low"]),
                        "diff_ci_high": float(test["ci_high"]), "p_value": float(test["p_value"]),
                        "n_paired": len(both)}
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("diff_vs_ref", "diff_ci_low", "diff_ci_high", "p_value", "n_paired"):
        if col not in out:
            out[col] = np.nan
    return out


def add_baseline(summary: pd.DataFrame, baseline_variant: str = "untuned") -> pd.DataFrame:
    """Add ``baseline``: the score of the untuned model scored with the same variant on the same cluster."""
    if summary.empty or "train_variant" not in summary:
        return summary
    base = summary[summary["train_variant"] == baseline_variant][["eval_variant", "cluster", "score"]]
    base = base.rename(columns={"score": "baseline"})
    return summary.merge(base, on=["eval_variant", "cluster"], how="left")
