# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # FLAN Fig. 6: held-out score against the number of training clusters
# Cells of `+experiment=num_clusters`: fixed held-out clusters, training on the first k others. Scores are the
# one estimand of `flanlab.analysis.stats` (templates, tasks, clusters per seed, then seeds) with hierarchical
# bootstrap CIs (`ci_kind` says whether seeds were resampled: it needs 3 or more).
#
# Input: that study's sweep, `outputs/num_clusters/sweep` (`python -m flanlab +experiment=num_clusters`, from the
# repository root). The default run's sweep (`outputs/ablation/sweep`) has no such cells: every one of its cells
# trains on all non-held-out clusters. Another sweep: set `results_dir` (relative paths are from this folder).

# %% tags=["parameters"]
results_dir = "../outputs/num_clusters/sweep"  # the num-clusters study's sweep (MAKES_IT below writes it)
figures_dir = "figures"
n_resamples = 1000

# %%
from flanlab.analysis.notebook_inputs import require, require_results

MAKES_IT = "python -m flanlab +experiment=num_clusters"
require_results(results_dir, MAKES_IT)  # missing or empty: one line naming MAKES_IT, and the notebook stops

# %%
from pathlib import Path

from flanlab.analysis.figures import plot_num_clusters, save_figure
from flanlab.analysis.sweep_report import build_report

summary = build_report(results_dir, n_resamples=n_resamples).num_clusters
require(summary, results_dir, MAKES_IT, "num-clusters results (cells with heldout.train_only)")
fig = plot_num_clusters(summary)
paths = save_figure(fig, Path(figures_dir) / "num_clusters")
print(summary[["eval_variant", "n_train_clusters", "cluster", "seeds", "score", "ci_low", "ci_high",
               "ci_kind"]].to_markdown(index=False))
print("saved:", *paths)
