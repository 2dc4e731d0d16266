"""The prompt-semantics part of a grid's report: its tables (``flanlab.analysis.semantics``) as files, Markdown and
figures (the train × eval heat map, and reliance and override with CIs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flanlab.analysis import semantics as sem
from flanlab.analysis.collect import GroupData
from flanlab.analysis.stats import MEAN_ROW
from flanlab.analysis.study_output import ci_text, number_text, write_study

TABLES = ("matrix", "reliance", "override", "floors", "spread")


def build_semantics(groups: dict[tuple, GroupData], ablation: pd.DataFrame, cells: list[dict], *,
                    n_resamples: int = 1000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Every prompt-semantics table, or nothing when no model was scored with a prompt-semantics variant."""
    if not sem.is_semantics(groups):
        return {}
    opts = {"n_resamples": n_resamples, "seed": seed}
    return {"matrix": sem.matrix_table(ablation), "reliance": sem.reliance_table(groups, **opts),
            "override": sem.override_table(groups, **opts), "floors": sem.floor_table(groups, ablation),
            "spread": sem.spread_table(groups, cells, **opts)}


def matrix_markdown(matrix: pd.DataFrame) -> str:
    """Held-out mean [CI]: training arms as rows, scoring variants as columns."""
    if matrix.empty:
        return ""
    text = matrix.assign(cell=[ci_text(v, lo, hi) for v, lo, hi in
                               zip(matrix["score"], matrix["ci_low"], matrix["ci_high"], strict=True)])
    wide = text.pivot_table(index="label" if "label" in text else "arm", columns="eval_variant", values="cell",
                            aggfunc="first", sort=False)
    order = [v for v in matrix["eval_variant"].drop_duplicates()]
    return wide[order].fillna("").reset_index().to_markdown(index=False)


def reliance_override_markdown(reliance: pd.DataFrame, override: pd.DataFrame) -> str:
    """One row per arm: reliance [CI] with p and Holm's p, and each override rate [CI] (held-out mean)."""
    arms = list(dict.fromkeys([*reliance.get("arm", []), *override.get("arm", [])]))
    rows = []
    for arm in arms:
        row = {"trained with": arm}
        r = reliance[(reliance["arm"] == arm) & (reliance["cluster"] == MEAN_ROW)] if not reliance.empty else reliance
        if not r.empty:
            r = r.iloc[0]
            reliance = ci_text(r["reliance"], r["ci_low"], r["ci_high"], sign=True)
            row |= {"reliance (instruction − null_prompt)": reliance,
                    "p": number_text(r["p_value"]), "p_holm": number_text(r["p_holm"])}
        for variant in sem.OVERRIDE_VARIANTS:
            o = override[(override["arm"] == arm) & (override["eval_variant"] == variant)
                         & (override["cluster"] == MEAN_ROW)] if not override.empty else override
            row[f"override: {variant}"] = ci_text(o.iloc[0]["override"], o.iloc[0]["ci_low"], o.iloc[0]["ci_high"]) \
                if not o.empty else ""
        rows.append(row)
    return pd.DataFrame(rows).to_markdown(index=False) if rows else ""


def floors_markdown(floors: pd.DataFrame) -> str:
    if floors.empty:
        return ""
    text = floors.assign(cell=[ci_text(v, lo, hi) for v, lo, hi in
                               zip(floors["score"], floors["ci_low"], floors["ci_high"], strict=True)])
    wide = text.pivot_table(index="floor", columns="cluster", values="cell", aggfunc="first", sort=False)
    return wide[[*sorted(c for c in wide.columns if c != MEAN_ROW), MEAN_ROW]].reset_index().to_markdown(index=False)


def spread_markdown(spread: pd.DataFrame) -> str:
    if spread.empty:
        return ""
    return pd.DataFrame({
        "trained with": spread["arm"], "templates": spread["templates"],
        "mean over templates": spread["mean_template"].map(number_text),
        "ensemble [CI]": [ci_text(v, lo, hi) for v, lo, hi in
                          zip(spread["ensemble"], spread["ensemble_ci_low"], spread["ensemble_ci_high"], strict=True)],
        "range": spread["range"].map(number_text), "IQR": spread["iqr"].map(number_text),
        "SD": spread["sd"].map(number_text),
        "Kendall τ (arms across templates)": spread["kendall_tau"].map(number_text)}).to_markdown(index=False)


def semantics_markdown(tables: dict[str, pd.DataFrame]) -> str:
    """The study's report section: every table with one line saying what it is."""
    parts = [
        "## Train variant × eval variant (held-out mean [95% CI])", matrix_markdown(tables["matrix"]),
        "## Instruction reliance and override (held-out mean [95% CI])",
        "Reliance: accuracy under `instruction` minus under `null_prompt` (same model, same items, paired). Override: "
        "share of items where the prediction follows the *stated* task, among items where it differs from the "
        "original task's answer.",
        reliance_override_markdown(tables["reliance"], tables["override"]),
        "## Format floors", floors_markdown(tables["floors"]),
        "## Template spread (scored with instructions)", spread_markdown(tables["spread"]),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def write_semantics(tables: dict[str, pd.DataFrame], out: Path, *, figures: bool = True) -> list[Path]:
    """Save every table (CSV, Markdown, Parquet), ``prompt_semantics.md`` and the two figures."""
    from flanlab.analysis.figures import plot_reliance_override, plot_semantics_matrix

    plots = {"semantics_matrix": lambda: plot_semantics_matrix(tables["matrix"]),
             "reliance_override": lambda: plot_reliance_override(tables["reliance"], tables["override"])}
    return write_study(tables, TABLES, out, "semantics", "prompt_semantics", semantics_markdown(tables),
                       plots if figures else None)
