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
# # Chain of thought: trained with or without CoT × scored directly or with CoT
# Cells of `+experiment=cot_ablation` (docs/cot.md). Each bar is the held-out mean (the one estimand of
# `flanlab.analysis.stats`) with its hierarchical-bootstrap 95% CI; the lines are chance, the format-aware guess
# and the majority answer. Scored directly = rank classification; scored with CoT = generate, read the answer after
# the marker (a missing marker counts as wrong; the table counts them).

# %% tags=["parameters"]
results_dir = "../outputs/tiny_cot"  # made by notebooks/make_tiny_results.sh
figures_dir = "figures"
n_resamples = 1000

# %%
from pathlib import Path

from flanlab.analysis.cot_report import cot_markdown, plot_cot
from flanlab.analysis.figures import save_figure
from flanlab.analysis.sweep_report import build_report

tables = build_report(results_dir, n_resamples=n_resamples).cot
paths = save_figure(plot_cot(tables["table"], tables["baselines"]), Path(figures_dir) / "cot_2x2")
print(cot_markdown(tables))
print("saved:", *paths)
