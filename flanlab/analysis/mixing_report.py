"""The template-mixing part of a grid's report: the arm × shots table, baselines and paired differences
(``flanlab.analysis.mixing``) as files, ``mixing.md`` and the figure ``figures/template_mixing.{png,pdf}``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from flanlab.analysis.study_output import ci_text, draw_baselines, number_text, study_markdown, write_study

TABLES = ("table", "baselines", "differences")


def table_markdown(table: pd.DataFrame) -> str:
    """Arms as rows; per number of shots, the held-out mean [95% CI], format (type acc) and content (acc | type)."""
    if table.empty:
        return ""
    rows = []
    for (label, variant), part in table.groupby(["label", "variant"], sort=False):
        row = {"trained with": label, "scored with": variant, "seeds": int(part["seeds"].max())}
        for _, r in part.sort_values("shots").iterrows():
            k = int(r["shots"])
            row[f"{k}-shot"] = ci_text(r["score"], r["ci_low"], r["ci_high"], examples_only=r["ci_kind"] == "examples")
            row[f"{k}-shot format"] = number_text(r["type_acc"])
            row[f"{k}-shot content"] = number_text(r["acc_given_type"])
        rows.append(row)
    return pd.DataFrame(rows).to_markdown(index=False)


def mixing_markdown(tables: dict[str, pd.DataFrame]) -> str:
    """The study's report section."""
    return study_markdown(
        "## Template mixing: each arm scored zero-shot and k-shot (held-out mean [95% CI])",
        "k-shot: k solved examples of the same task (its train split, fixed by scoring.fewshot_seed) before each "
        "prompt; format = type accuracy, content = accuracy among right-type answers.",
        table_markdown(tables["table"]), tables)


def plot_mixing(table: pd.DataFrame, baselines: pd.DataFrame) -> plt.Figure | None:
    """Bars per arm, one per number of shots, with 95% CIs, scored with instructions; chance and majority as
    lines."""
    table = table[table["variant"] == "instruction"] if not table.empty else table
    if table.empty:
        return None
    labels = list(dict.fromkeys(table["label"]))
    shots = sorted(table["shots"].unique())
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    width = 0.8 / len(shots)
    for j, k in enumerate(shots):
        part = table[table["shots"] == k].set_index("label").reindex(labels)
        x = [i + (j - (len(shots) - 1) / 2) * width for i in range(len(labels))]
        err = [(part["score"] - part["ci_low"]).fillna(0), (part["ci_high"] - part["score"]).fillna(0)]
        ax.bar(x, part["score"].fillna(0), width, yerr=err, capsize=3, label=f"scored {k}-shot")
    draw_baselines(ax, baselines)
    ax.set_xticks(range(len(labels)), [label.replace("_", " ") for label in labels], rotation=20, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("held-out accuracy")
    ax.set_title("Template mixing: training arm × shots at scoring")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=5, frameon=False)  # off the bars
    fig.tight_layout()
    return fig


def write_mixing(tables: dict[str, pd.DataFrame], out: Path, *, figures: bool = True) -> list[Path]:
    """Save the tables (CSV, Markdown, Parquet), ``mixing.md`` and the figure."""
    plots = {"template_mixing": lambda: plot_mixing(tables["table"], tables["baselines"])} if figures else None
    return write_study(tables, TABLES, out, "mixing", "mixing", mixing_markdown(tables), plots)
