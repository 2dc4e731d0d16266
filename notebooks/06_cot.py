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
#
# Input: that study's sweep, `outputs/cot_ablation/sweep` (`python -m flanlab +experiment=cot_ablation`, from the
# repository root). Another sweep: set `results_dir` (relative paths are from this folder).

# %% tags=["parameters"]
results_dir = "../outputs/cot_ablation/sweep"  # the chain-of-thought study's sweep (MAKES_IT below writes it)
figures_dir = "figures"
n_resamples = 1000

# %%
from flanlab.analysis.notebook_inputs import require, require_results

MAKES_IT = "python -m flanlab +experiment=cot_ablation"
require_results(results_dir, MAKES_IT)  # missing or empty: one line naming MAKES_IT, and the notebook stops

# %%
from pathlib import Path

from flanlab.analysis.cot_report import cot_markdown, plot_cot
from flanlab.analysis.figures import save_figure
from flanlab.analysis.sweep_report import build_report

tables = build_report(results_dir, n_resamples=n_resamples).cot
require(tables, results_dir, MAKES_IT, "chain-of-thought results (models scored with cot)")
paths = save_figure(plot_cot(tables["table"], tables["baselines"]), Path(figures_dir) / "cot_2x2")
print(cot_markdown(tables))
print("saved:", *paths)
