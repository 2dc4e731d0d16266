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
# Held-out zero-shot score per (training arm → scoring variant): one estimand (templates, then tasks, then
# clusters averaged per seed, then seeds), 95% CIs from a hierarchical bootstrap (seeds, then examples within
# each seed; hatched bars: fewer than 3 seeds, so the CI covers examples only), the untuned model (a random init
# for config-built models) as a dashed line; one panel for the held-out mean and one per cluster. Where the
# results carry answer types, two more rows show format (type accuracy) and content (accuracy given the right
# type) apart. All numbers come from `flanlab.analysis` (unit-tested); this notebook only lays them out.
#
# Input: the default run's sweep, `outputs/ablation/sweep` (`make run`, i.e. `python -m flanlab +experiment=ablation`,
# from the repository root; `+experiment=ablation_controls` adds its controls to the same folder). Another sweep:
# set `results_dir` (papermill `-p results_dir ...`; relative paths are from this folder).

# %% tags=["parameters"]
results_dir = "../outputs/ablation/sweep"  # the default run's sweep: `make run` writes it (MAKES_IT below)
mixing_dir = "../outputs/template_mixing/sweep"  # the Flan 2022 template-mixing study (last section; optional)
figures_dir = "figures"
n_resamples = 1000

# %%
from flanlab.analysis.notebook_inputs import require, require_results

MAKES_IT = "python -m flanlab +experiment=ablation"
require_results(results_dir, MAKES_IT)  # missing or empty: one line naming MAKES_IT, and the notebook stops

# %%
from pathlib import Path

from IPython.display import Markdown, display

from flanlab.analysis.figures import plot_template_ablation, save_figure
from flanlab.analysis.sweep_report import build_report, markdown_table, task_markdown

report = build_report(results_dir, n_resamples=n_resamples)
require(report.ablation, results_dir, MAKES_IT, "template-ablation results")  # e.g. only num-clusters cells
fig = plot_template_ablation(report.ablation)
paths = save_figure(fig, Path(figures_dir) / "template_ablation")
display(Markdown(markdown_table(report.ablation)))
print("saved:", *paths)

# %% [markdown]
# Per held-out task: accuracy [CI], chance, the majority-label baseline, type accuracy (format), accuracy given
# the right type [CI] (content), chance given type, and the options the model picks most often.

# %%
display(Markdown(task_markdown(report.tasks)))
delta = report.headline.get("delta_instruction_vs_no_template")
if delta:
    print("instruction - no_template:", {k: delta[k] for k in ("diff", "ci_low", "ci_high", "p", "p_holm")})

# %% [markdown]
# ## Flan 2022: few-shot, mixed prompts and input inversion
# Each training arm of `python -m flanlab +experiment=template_mixing` (zero-shot only, mixed, few-shot only,
# zero-shot plus input inversion, the oracle with mixed prompts, the random init) scored zero-shot and 3-shot on the
# held-out clusters, with 95% CIs, chance and majority lines (`flanlab.analysis.mixing`). Skipped, with one line, when
# that study has not run.

# %%
from flanlab.analysis.mixing_report import mixing_markdown, plot_mixing

mixing = build_report(mixing_dir, n_resamples=n_resamples).mixing if Path(mixing_dir).is_dir() else {}
if mixing:
    fig = plot_mixing(mixing["table"], mixing["baselines"])
    print("saved:", *save_figure(fig, Path(figures_dir) / "template_mixing"))
    display(Markdown(mixing_markdown(mixing)))
else:
    print(f"no template-mixing results under {mixing_dir}: run `python -m flanlab +experiment=template_mixing` first")
