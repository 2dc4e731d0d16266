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
# # Training loss per variant and held-out cluster
# From the cells' results files, or (`source="wandb"`) from the offline W&B run files.
#
# Input: the default run's sweep, `outputs/ablation/sweep` (`make run`, i.e. `python -m flanlab +experiment=ablation`,
# from the repository root); any other study's sweep works too: set `results_dir` (relative paths are from this
# folder).

# %% tags=["parameters"]
results_dir = "../outputs/ablation/sweep"  # the default run's sweep: `make run` writes it (MAKES_IT below)
figures_dir = "figures"
source = "results"  # results | wandb
curves_dir = "../outputs/transfer_curves/sweep"  # held-out curves (CURVES_MADE_BY below makes them)

# %%
from flanlab.analysis.notebook_inputs import require, require_results

MAKES_IT = "python -m flanlab +experiment=ablation"
require_results(results_dir, MAKES_IT)  # missing or empty: one line naming MAKES_IT, and the notebook stops

# %%
from pathlib import Path

from flanlab.analysis.collect import load_cells, loss_frame, wandb_loss_frame
from flanlab.analysis.figures import plot_training_curves, save_figure

losses = loss_frame(load_cells(results_dir)) if source == "results" else wandb_loss_frame(results_dir)
require(losses, results_dir, MAKES_IT, "training losses" if source == "results" else "offline W&B training losses")
fig = plot_training_curves(losses)
paths = save_figure(fig, Path(figures_dir) / "training_curves")
print(losses.groupby(["heldout", "train_variant"])["loss"].agg(["first", "last"]).to_markdown())
print("saved:", *paths)

# %% [markdown]
# ## Held-out curves during training
# Cells run with `scoring.curve_every` (the study `python -m flanlab +experiment=transfer_curves`) score a fixed subset
# of their held-out rows as they train. Per arm: held-out score, format (type accuracy) and content (accuracy given
# type), the mean over seeds with a band from the lowest to the highest seed, chance dotted and the majority answer
# dash-dot, with in-distribution accuracy beside them; then the step at which each first rises above chance
# (`flanlab.analysis.curves`, the report's `transfer_curves.md`). Input: `curves_dir`; a folder without curve points
# gets one line naming the command, and the loss figure above stands.

# %%
from flanlab.analysis.curves import build_curves
from flanlab.analysis.curves_report import crossings_text, plot_curves
from flanlab.analysis.notebook_inputs import missing_line

CURVES_MADE_BY = "python -m flanlab +experiment=transfer_curves"
curves = build_curves(load_cells(curves_dir)) if Path(curves_dir).is_dir() else {}
if curves:
    fig = plot_curves(curves["points"])
    print(crossings_text(curves["crossings"]).to_markdown(index=False))
    print("saved:", *save_figure(fig, Path(figures_dir) / "transfer_curves"))
else:
    print(missing_line(curves_dir, CURVES_MADE_BY, "held-out curves"))
