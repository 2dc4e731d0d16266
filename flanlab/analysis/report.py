"""A grid's report: every cell's results gathered into summary tables and paper figures.

``build_report(root)`` computes; ``write_report(root)`` saves. Cells that trained on a restricted
set of clusters (``heldout.train_only``, the num-clusters study) are summarised by the number of
training clusters; the others by (training variant, scoring variant), compared with instructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flanlab.analysis.collect import example_frame, load_cells, scores_frame
from flanlab.analysis.stats import add_baseline, summarize
from flanlab.analysis.status import grid_status
from flanlab.analysis.tables import VARIANT_ORDER, ablation_table, indist_table, save_table

REFERENCE = {"train_variant": "instruction", "eval_variant": "instruction"}


@dataclass
class Report:
    ablation: pd.DataFrame  # long: (train_variant, eval_variant, cluster) -> score, CI, paired test, baseline
    wide: pd.DataFrame  # mean over seeds, (train_variant, eval_variant) x cluster
    indist: pd.DataFrame
    num_clusters: pd.DataFrame  # long: (n_train_clusters, cluster) -> score, CI
    status: pd.DataFrame
    figures: list[Path] = field(default_factory=list)


def is_num_clusters_cell(cell: dict) -> bool:
    return (cell.get("config", {}).get("heldout", {}) or {}).get("train_only") is not None


def _sort_ablation(frame: pd.DataFrame) -> pd.DataFrame:
    rank = {v: i for i, v in enumerate(VARIANT_ORDER)}
    key = frame.apply(lambda r: (rank.get(r["train_variant"], 99), rank.get(r["eval_variant"], 99),
                                 r["cluster"] != "all", r["cluster"]), axis=1)
    return frame.loc[key.sort_values().index].reset_index(drop=True)


def build_report(root: str | Path, *, n_resamples: int = 1000, seed: int = 0) -> Report:
    """Collect the cells under ``root`` and summarise both studies; missing and failed cells go in ``status``."""
    cells = load_cells(root)
    ablation_cells = [c for c in cells if not is_num_clusters_cell(c)]
    cluster_cells = [c for c in cells if is_num_clusters_cell(c)]
    ablation = pd.DataFrame()
    if ablation_cells:
        examples = example_frame(ablation_cells)
        reference = REFERENCE if ((examples["train_variant"] == "instruction")
                                  & (examples["eval_variant"] == "instruction")).any() else None
        ablation = _sort_ablation(add_baseline(summarize(examples, ["train_variant", "eval_variant"], reference,
                                                         n_resamples=n_resamples, seed=seed)))
    num_clusters = pd.DataFrame()
    if cluster_cells:
        num_clusters = summarize(example_frame(cluster_cells), ["train_variant", "n_train_clusters"],
                                 n_resamples=n_resamples, seed=seed).sort_values(["n_train_clusters", "cluster"])
    return Report(ablation=ablation, wide=ablation_table(scores_frame(ablation_cells)),
                  indist=indist_table(ablation_cells), num_clusters=num_clusters.reset_index(drop=True),
                  status=grid_status(root))


def markdown_table(summary: pd.DataFrame) -> str:
    """The report table for humans: score with its CI, difference to instructions with p, untuned baseline."""
    def ci(lo: float, hi: float) -> str:
        return "" if pd.isna(lo) else f"[{lo:.3f}, {hi:.3f}]"

    out = pd.DataFrame({
        "trained with": summary["train_variant"], "scored with": summary["eval_variant"], "cluster": summary["cluster"],
        "seeds": summary["seeds"], "n": summary["n"], "score": summary["score"].map("{:.3f}".format),
        "95% CI": [ci(a, b) for a, b in zip(summary["ci_low"], summary["ci_high"], strict=True)],
        "Δ vs instruction": ["" if pd.isna(d) else f"{d:+.3f} {ci(a, b)}" for d, a, b in
                             zip(summary["diff_vs_ref"], summary["diff_ci_low"], summary["diff_ci_high"], strict=True)],
        "p": ["" if pd.isna(p) else f"{p:.3f}" for p in summary["p_value"]],
        "untuned": ["" if pd.isna(b) else f"{b:.3f}" for b in summary.get("baseline", [None] * len(summary))],
    })
    return out.to_markdown(index=False)


def write_report(root: str | Path, out_dir: str | Path | None = None, *, figures: bool = True,
                 n_resamples: int = 1000) -> Report:
    """Build the report for ``root`` and save tables (CSV, Markdown, Parquet) and figures (PNG, PDF) in ``out_dir``."""
    from flanlab.analysis.figures import plot_num_clusters, plot_template_ablation, save_figure
    from flanlab.io import atomic_write_text

    out = Path(out_dir or root)
    report = build_report(root, n_resamples=n_resamples)
    if not report.ablation.empty:
        save_table(report.ablation, out, "report_table")
        atomic_write_text(out / "report_table.md", markdown_table(report.ablation) + "\n")
    for name, frame in (("ablation_table", report.wide), ("indist_table", report.indist)):
        if not frame.empty:
            save_table(frame.reset_index(), out, name)
    if not report.num_clusters.empty:
        save_table(report.num_clusters, out, "num_clusters_table")
    save_table(report.status, out, "grid_status")
    if figures:
        import matplotlib.pyplot as plt

        if not report.ablation.empty and (report.ablation["train_variant"] != "untuned").any():
            fig = plot_template_ablation(report.ablation)
            report.figures += save_figure(fig, out / "figures" / "template_ablation")
            plt.close(fig)
        if not report.num_clusters.empty:
            fig = plot_num_clusters(report.num_clusters)
            report.figures += save_figure(fig, out / "figures" / "num_clusters")
            plt.close(fig)
    return report
