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

from flanlab.analysis.stats import MEAN_ROW

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FULL_WIDTH, COLUMN_WIDTH = 7.0, 3.4  # inches
VARIANT_LABELS = {"instruction": "Instructions", "dataset_name": "Dataset name", "no_template": "No template",
                  "opaque_tag": "Opaque tag", "shuffled_instruction": "Shuffled instructions", "oracle": "Oracle",
                  "untuned": "Untuned", "random init": "Random init"}
TRAIN_ORDER = ["no_template", "opaque_tag", "dataset_name", "shuffled_instruction", "instruction", "oracle"]

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


def _pairs(tuned: pd.DataFrame) -> list[tuple[str, str]]:
    rank = {v: i for i, v in enumerate(TRAIN_ORDER)}
    return sorted({(t, e) for t, e in zip(tuned["arm"], tuned["eval_variant"], strict=True)},
                  key=lambda p: (rank.get(p[0], 99), p[0], p[1] != p[0], p[1]))


def _bars(ax: plt.Axes, part: pd.DataFrame, pairs: list[tuple[str, str]], metric: str, labels: dict) -> None:
    """One bar per (arm, scoring variant) with its 95% CI whisker (hatched where the CI covers examples only)."""
    lo, hi = ("ci_low", "ci_high") if metric == "score" else (f"{metric}_ci_low", f"{metric}_ci_high")
    for i, pair in enumerate(pairs):
        if pair not in part.index or pd.isna(part.loc[pair, metric]):
            continue
        r = part.loc[pair]
        err = None if pd.isna(r[lo]) else [[r[metric] - r[lo]], [r[hi] - r[metric]]]
        ax.bar(i, r[metric], color=OKABE_ITO[i % len(OKABE_ITO)], label=label(labels.get(pair[0], pair[0]), pair[1]),
               hatch="//" if r.get("ci_kind") == "examples" else None, edgecolor="white", lw=0,
               yerr=err, capsize=2, error_kw={"lw": 0.8})


def plot_template_ablation(summary: pd.DataFrame, baseline_eval: str = "instruction") -> plt.Figure:
    """FLAN Fig. 8 style: held-out score per (training arm → scoring variant), 95% CI whiskers, the untuned (or
    random-init) model scored with ``baseline_eval`` as a dashed line; one panel for the held-out mean, then one
    per cluster. Where the results carry answer types, two more rows show format and content apart: type
    accuracy, and accuracy given the right type. Hatched bars: CIs over examples only (fewer than 3 seeds)."""
    arm_col = "arm" if "arm" in summary else "train_variant"
    summary = summary.assign(arm=summary[arm_col])
    labels = dict(zip(summary["arm"], summary.get("label", summary["arm"]), strict=True))
    tuned = summary[summary["arm"] != "untuned"]
    pairs = _pairs(tuned)
    clusters = [MEAN_ROW, *sorted(c for c in summary["cluster"].unique() if c != MEAN_ROW)]
    metrics = [("score", "Held-out zero-shot score")]
    for name, title in (("type_acc", "Type accuracy (format)"), ("acc_given_type", "Accuracy given type (content)")):
        if name in tuned and tuned[name].notna().any():
            metrics.append((name, title))
    fig, axes = plt.subplots(len(metrics), len(clusters), figsize=(FULL_WIDTH, 2.2 * len(metrics)), sharey=True,
                             squeeze=False)
    for row, (metric, ylabel) in enumerate(metrics):
        for ax, cluster in zip(axes[row], clusters, strict=True):
            _bars(ax, tuned[tuned["cluster"] == cluster].set_index(["arm", "eval_variant"]), pairs, metric, labels)
            base = summary[(summary["arm"] == "untuned") & (summary["eval_variant"] == baseline_eval)
                           & (summary["cluster"] == cluster)]
            if not base.empty and metric in base and pd.notna(base[metric].iloc[0]):
                ax.axhline(float(base[metric].iloc[0]), color="black", ls="--", lw=0.9,
                           label=label(labels.get("untuned", "untuned"), baseline_eval))
            if row == 0:
                ax.set_title("Mean of held-out clusters" if cluster == MEAN_ROW else cluster.replace("_", " "))
            ax.set_xticks([])
            ax.set_ylim(0, 1)
        axes[row][0].set_ylabel(ylabel)
    if "ci_kind" in tuned and (tuned["ci_kind"] == "examples").any():
        fig.text(0.99, 1.0, "hatched: CI over examples only (fewer than 3 seeds)", ha="right", va="bottom",
                 fontsize=6)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.tight_layout()
    fig.legend(handles, names, loc="upper center", ncol=min(len(names), 4), frameon=False, bbox_to_anchor=(0.5, 0.0),
               title="Trained with → scored with")
    return fig


def plot_num_clusters(summary: pd.DataFrame) -> plt.Figure:
    """FLAN Fig. 6 style: held-out score against the number of training clusters, with 95% CI bands."""
    if "eval_variant" in summary and (summary["eval_variant"] == "instruction").any():
        summary = summary[summary["eval_variant"] == "instruction"]
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.4))
    clusters = [MEAN_ROW, *sorted(c for c in summary["cluster"].unique() if c != MEAN_ROW)]
    for i, cluster in enumerate(clusters):
        part = summary[summary["cluster"] == cluster].sort_values("n_train_clusters")
        own = {"lw": 1.0, "color": OKABE_ITO[i % 8], "ls": "-"}
        style = {"lw": 2.0, "color": "black"} if cluster == MEAN_ROW else own
        ax.errorbar(part["n_train_clusters"], part["score"], capsize=2, marker="o", ms=3,
                    yerr=[part["score"] - part["ci_low"], part["ci_high"] - part["score"]],
                    label="Mean of held-out" if cluster == MEAN_ROW else cluster.replace("_", " "), **style)
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


def plot_semantics_matrix(matrix: pd.DataFrame) -> plt.Figure | None:
    """Heat map of the held-out mean: training arms (rows) × scoring variants (columns), each cell annotated."""
    if matrix.empty:
        return None
    rows = list(dict.fromkeys(matrix["label"] if "label" in matrix else matrix["arm"]))
    cols = list(dict.fromkeys(matrix["eval_variant"]))
    key = "label" if "label" in matrix else "arm"
    grid = matrix.pivot_table(index=key, columns="eval_variant", values="score", aggfunc="first").reindex(
        index=rows, columns=cols)
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 0.45 * len(rows) + 1.6))
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    for (i, j), value in pd.DataFrame(grid.to_numpy(dtype=float)).stack().items():
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                color="black" if value > 0.6 else "white")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("scored with")
    ax.set_ylabel("trained with")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="held-out mean")
    return fig


def plot_reliance_override(reliance: pd.DataFrame, override: pd.DataFrame) -> plt.Figure | None:
    """Bars with 95% CIs per training arm: instruction reliance (left) and each override rate (right)."""
    if reliance.empty and override.empty:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.4))
    for ax, frame, value, groups, title in (
            (left, reliance, "reliance", [None], "Reliance: instruction − null_prompt"),
            (right, override, "override", sorted(override["eval_variant"].unique()) if not override.empty else [],
             "Override rate (follows the stated task)")):
        part = frame[frame["cluster"] == MEAN_ROW] if not frame.empty else frame
        arms = list(dict.fromkeys(part["arm"])) if not part.empty else []
        width = 0.8 / max(len(groups), 1)
        for g, group in enumerate(groups):
            sub = part if group is None else part[part["eval_variant"] == group]
            sub = sub.set_index("arm").reindex(arms)
            err = [sub[value] - sub["ci_low"], sub["ci_high"] - sub[value]]
            ax.bar([i + g * width for i in range(len(arms))], sub[value], width, yerr=err, capsize=2,
                   color=OKABE_ITO[g % len(OKABE_ITO)], label=group, error_kw={"lw": 0.8})
        ax.set_xticks([i + width * (len(groups) - 1) / 2 for i in range(len(arms))], arms, rotation=30, ha="right")
        ax.axhline(0, color="black", lw=0.5)
        ax.set_title(title)
        if groups != [None] and groups:
            ax.legend(frameon=False)
    return fig
