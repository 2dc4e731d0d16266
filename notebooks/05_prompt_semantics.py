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
# # Prompt semantics: train variant × eval variant, instruction reliance and override
# Cells of `+experiment=prompt_semantics` (docs/variants.md): every model scored with every prompt variant. The
# heat map shows the held-out mean (the one estimand of `flanlab.analysis.stats`); the bars show reliance
# (instruction − null_prompt, paired on the same items) and the override rates (the share of items where the
# prediction follows the *stated* task), each with its hierarchical-bootstrap 95% CI.
#
# Input: that study's sweep, `outputs/prompt_semantics/sweep` (`python -m flanlab +experiment=prompt_semantics`,
# from the repository root). Another sweep: set `results_dir` (relative paths are from this folder).

# %% tags=["parameters"]
results_dir = "../outputs/prompt_semantics/sweep"  # the prompt-semantics study's sweep (MAKES_IT below writes it)
figures_dir = "figures"
n_resamples = 1000

# %%
from flanlab.analysis.notebook_inputs import require, require_results

MAKES_IT = "python -m flanlab +experiment=prompt_semantics"
require_results(results_dir, MAKES_IT)  # missing or empty: one line naming MAKES_IT, and the notebook stops

# %%
from pathlib import Path

from flanlab.analysis.figures import plot_reliance_override, plot_semantics_matrix, save_figure
from flanlab.analysis.semantics_report import semantics_markdown
from flanlab.analysis.sweep_report import build_report

tables = build_report(results_dir, n_resamples=n_resamples).semantics
require(tables, results_dir, MAKES_IT, "prompt-semantics results (models scored with its variants)")
paths = save_figure(plot_semantics_matrix(tables["matrix"]), Path(figures_dir) / "semantics_matrix")
paths += save_figure(plot_reliance_override(tables["reliance"], tables["override"]),
                     Path(figures_dir) / "reliance_override")
print(semantics_markdown(tables))
print("saved:", *paths)
