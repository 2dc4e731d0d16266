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

# %% tags=["parameters"]
results_dir = "../outputs/tiny"  # made by notebooks/make_tiny_results.sh
figures_dir = "figures"
n_resamples = 1000

# %%
from pathlib import Path

from flanlab.analysis.figures import plot_num_clusters, save_figure
from flanlab.analysis.sweep_report import build_report

summary = build_report(results_dir, n_resamples=n_resamples).num_clusters
fig = plot_num_clusters(summary)
paths = save_figure(fig, Path(figures_dir) / "num_clusters")
print(summary[["eval_variant", "n_train_clusters", "cluster", "seeds", "score", "ci_low", "ci_high",
               "ci_kind"]].to_markdown(index=False))
print("saved:", *paths)
