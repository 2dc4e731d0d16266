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
# # FLAN Fig. 8: which template variant transfers to held-out clusters?
# Held-out zero-shot score per (training variant → scoring variant), 95% bootstrap CIs, the untuned
# model as a dashed line, one panel for all held-out clusters and one per cluster. All numbers come
# from `flanlab.analysis` (unit-tested); this notebook only lays them out.

# %% tags=["parameters"]
results_dir = "../outputs/tiny"  # made by notebooks/make_tiny_results.sh
figures_dir = "figures"
n_resamples = 1000

# %%
from pathlib import Path

from IPython.display import Markdown, display

from flanlab.analysis.figures import plot_template_ablation, save_figure
from flanlab.analysis.report import build_report, markdown_table

report = build_report(results_dir, n_resamples=n_resamples)
fig = plot_template_ablation(report.ablation)
paths = save_figure(fig, Path(figures_dir) / "template_ablation")
display(Markdown(markdown_table(report.ablation)))
print("saved:", *paths)
