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

# %% tags=["parameters"]
results_dir = "../outputs/tiny"  # made by notebooks/make_tiny_results.sh
figures_dir = "figures"
source = "results"  # results | wandb

# %%
from pathlib import Path

from flanlab.analysis.collect import load_cells, loss_frame, wandb_loss_frame
from flanlab.analysis.figures import plot_training_curves, save_figure

losses = loss_frame(load_cells(results_dir)) if source == "results" else wandb_loss_frame(results_dir)
fig = plot_training_curves(losses)
paths = save_figure(fig, Path(figures_dir) / "training_curves")
print(losses.groupby(["heldout", "train_variant"])["loss"].agg(["first", "last"]).to_markdown())
print("saved:", *paths)
