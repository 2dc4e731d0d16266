"""Paper figures from summary tables (no computation here beyond layout).

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies); widths fit a
two-column paper: ``FULL_WIDTH`` spans both columns, ``COLUMN_WIDTH`` one. Every figure is saved as
PNG (300 dpi) and PDF.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from flanlab.analysis.stats import ALL

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FULL_WIDTH, COLUMN_WIDTH = 7.0, 3.4  # inches
VARIANT_LABELS = {"instruction": "Instructions", "dataset_name": "Dataset name", "no_template": "No template",
                  "untuned": "Untuned"}
TRAIN_ORDER = ["no_template", "dataset_name", "instruction"]

plt.rcParams.update({"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7,
                     "xtick.labelsize": 7, "ytick.labelsize": 7, "pdf.fonttype": 42})


def label(train_variant: str, eval_variant: str) -> str:
    return f"{VARIANT_LABELS.get(train_variant, train_variant)} → {VARIANT_LABELS.get(eval_variant, eval_variant)}"


def save_figure(fig: plt.Figure, stem: str | Path) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` and ``<stem>.pdf``; return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=300, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def plot_template_ablation(summary: pd.DataFrame, baseline_eval: str = "instruction") -> plt.Figure:
    """FLAN Fig. 8 style: held-out score per (training variant → scoring variant), 95% CI whiskers,
    the untuned model (scored with ``baseline_eval``) as a dashed line; one panel for all held-out
    clusters, then one per cluster."""
    tuned = summary[summary["train_variant"] != "untuned"]
    rank = {v: i for i, v in enumerate(TRAIN_ORDER)}
    pairs = sorted({(t, e) for t, e in zip(tuned["train_variant"], tuned["eval_variant"], strict=True)},
                   key=lambda p: (rank.get(p[0], 99), p[1] != p[0], p[1]))
    clusters = [ALL, *sorted(c for c in summary["cluster"].unique() if c != ALL)]
    fig, axes = plt.subplots(1, len(clusters), figsize=(FULL_WIDTH, 2.4), sharey=True, squeeze=False)
    for ax, cluster in zip(axes[0], clusters, strict=True):
        part = tuned[tuned["cluster"] == cluster].set_index(["train_variant", "eval_variant"])
        for i, pair in enumerate(pairs):
            if pair not in part.index:
                continue
            r = part.loc[pair]
            ax.bar(i, r["score"], color=OKABE_ITO[i % len(OKABE_ITO)], label=label(*pair),
                   yerr=[[r["score"] - r["ci_low"]], [r["ci_high"] - r["score"]]], capsize=2, error_kw={"lw": 0.8})
        base = summary[(summary["train_variant"] == "untuned") & (summary["eval_variant"] == baseline_eval)
                       & (summary["cluster"] == cluster)]
        if not base.empty:
            ax.axhline(float(base["score"].iloc[0]), color="black", ls="--", lw=0.9,
                       label=f"Untuned → {VARIANT_LABELS.get(baseline_eval, baseline_eval)}")
        ax.set_title("All held-out clusters" if cluster == ALL else cluster.replace("_", " "))
        ax.set_xticks([])
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("Held-out zero-shot score")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False,
               bbox_to_anchor=(0.5, -0.12), title="Trained with → scored with")
    fig.tight_layout()
    return fig


def plot_num_clusters(summary: pd.DataFrame) -> plt.Figure:
    """FLAN Fig. 6 style: held-out score against the number of training clusters, with 95% CI bands."""
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.4))
    clusters = [ALL, *sorted(c for c in summary["cluster"].unique() if c != ALL)]
    for i, cluster in enumerate(clusters):
        part = summary[summary["cluster"] == cluster].sort_values("n_train_clusters")
        style = {"lw": 2.0, "color": "black"} if cluster == ALL else {"lw": 1.0, "color": OKABE_ITO[i % 8], "ls": "-"}
        ax.errorbar(part["n_train_clusters"], part["score"], capsize=2, marker="o", ms=3,
                    yerr=[part["score"] - part["ci_low"], part["ci_high"] - part["score"]],
                    label="Mean of held-out" if cluster == ALL else cluster.replace("_", " "), **style)
    ax.set_xlabel("Number of training clusters")
    ax.set_ylabel("Held-out zero-shot score")
    ax.set_xticks(sorted(summary["n_train_clusters"].unique()))
    ax.set_ylim(0, 1)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_training_curves(losses: pd.DataFrame) -> plt.Figure:
    """Training loss against step, one line per training variant (mean over seeds), one panel per held-out set."""
    heldouts = sorted(losses["heldout"].unique())
    fig, axes = plt.subplots(1, len(heldouts), figsize=(FULL_WIDTH if len(heldouts) > 1 else COLUMN_WIDTH, 2.2),
                             sharey=True, squeeze=False)
    rank = {v: i for i, v in enumerate(TRAIN_ORDER)}
    for ax, heldout in zip(axes[0], heldouts, strict=True):
        part = losses[losses["heldout"] == heldout]
        for variant in sorted(part["train_variant"].unique(), key=lambda v: rank.get(v, 99)):
            curve = part[part["train_variant"] == variant].groupby("step")["loss"].mean()
            ax.plot(curve.index, curve.values, color=OKABE_ITO[rank.get(variant, 3) % 8],
                    label=VARIANT_LABELS.get(variant, variant), lw=1.0)
        ax.set_title(f"held out: {heldout.replace('_', ' ')}")
        ax.set_xlabel("Step")
    axes[0][0].set_ylabel("Training loss")
    axes[0][0].legend(frameon=False, title="Trained with")
    fig.tight_layout()
    return fig
