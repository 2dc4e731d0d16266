"""The chain-of-thought part of a grid's report: the 2×2 table, baselines and paired differences
(``flanlab.analysis.cot``) as files, ``cot.md`` and the figure ``figures/cot_2x2.{png,pdf}``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from flanlab.analysis.study_output import ci_text, draw_baselines, study_markdown, write_study

TABLES = ("table", "baselines", "differences")


def grid_markdown(table: pd.DataFrame) -> str:
    """Trained with/without CoT as rows, scored direct/CoT as columns: score [95% CI], then missing markers."""
    if table.empty:
        return ""
    rows = []
    for arm, part in table.groupby("arm", sort=False):
        by = part.set_index("scored")
        row = {"trained": f"{arm} ({'with' if part['cot_in_training'].iloc[0] else 'without'} CoT)",
               "seeds": int(part["seeds"].max())}
        for scored in ("direct", "CoT"):
            r = by.loc[scored] if scored in by.index else None
            row[f"scored {scored}"] = "" if r is None else ci_text(r["score"], r["ci_low"], r["ci_high"],
                                                               examples_only=r["ci_kind"] == "examples")
        cot = by.loc["CoT"] if "CoT" in by.index else None
        row["CoT: missing marker"] = "" if cot is None or pd.isna(cot["missing_marker"]) else \
            f"{int(cot['missing_marker'])} ({cot['missing_marker_rate']:.1%})"
        row["CoT: lenient acc"] = "" if cot is None or pd.isna(cot["lenient_acc"]) else f"{cot['lenient_acc']:.3f}"
        rows.append(row)
    return pd.DataFrame(rows).to_markdown(index=False)


def cot_markdown(tables: dict[str, pd.DataFrame]) -> str:
    """The study's report section."""
    return study_markdown(
        "## Chain of thought: trained with/without CoT × scored direct/CoT (held-out mean [95% CI])",
        "Direct: rank classification over the options. CoT: greedy generation, the answer read after the marker "
        "`So the answer is` and compared by the task's metric; a generation without the marker counts as wrong "
        "(counted). Lenient acc reads a marker-less output whole (diagnosis only, not a score).",
        grid_markdown(tables["table"]), tables)


def plot_cot(table: pd.DataFrame, baselines: pd.DataFrame) -> plt.Figure | None:
    """Bars per scoring (direct, CoT), one per training arm, with 95% CIs; chance and majority as lines."""
    if table.empty:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    arms = list(dict.fromkeys(table["arm"]))
    width = 0.8 / len(arms)
    for i, arm in enumerate(arms):
        part = table[table["arm"] == arm].set_index("scored").reindex(["direct", "CoT"])
        x = [j + (i - (len(arms) - 1) / 2) * width for j in range(2)]
        err = [(part["score"] - part["ci_low"]).fillna(0), (part["ci_high"] - part["score"]).fillna(0)]
        label = f"{arm} ({'with' if trained_with(arm) else 'without'} CoT)"
        ax.bar(x, part["score"].fillna(0), width, yerr=err, capsize=3, label=label)
    draw_baselines(ax, baselines)
    ax.set_xticks([0, 1], ["scored direct", "scored with CoT"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("held-out accuracy")
    ax.set_title("Chain of thought: training × scoring")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def trained_with(arm: str) -> bool:
    return "+cot" in arm


def write_cot(tables: dict[str, pd.DataFrame], out: Path, *, figures: bool = True) -> list[Path]:
    """Save the tables (CSV, Markdown, Parquet), ``cot.md`` and the figure."""
    plots = {"cot_2x2": lambda: plot_cot(tables["table"], tables["baselines"])} if figures else None
    return write_study(tables, TABLES, out, "cot", "cot", cot_markdown(tables), plots)
