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
# # Prompt explorer: any task × variant × template, for one row
# Change the parameters (or run with papermill `-p task ... -p variant ...`) to see exactly what the
# model reads under each template variant. Inverted templates are listed too.

# %% tags=["parameters"]
task = "nli_fact_entailment"
variant = "instruction"  # no_template | dataset_name | instruction
template_id = None  # None = the task's first template
row = 0
options_in_prompt = True

# %%
from flanlab.analysis.prompts import render_prompt
from flanlab.tasks.suite.catalogue import SuiteCatalogue

catalogue = SuiteCatalogue(train_rows=32, eval_rows=16)
spec = catalogue.spec(task)
print("templates:", ", ".join(f"{t.id}{' (inverted)' if t.inverted else ''}" for t in spec.templates))
for v in ("no_template", "dataset_name", "instruction"):
    p = render_prompt(catalogue, task, v, template_id if v == variant else None, row, options_in_prompt=options_in_prompt)
    print(f"--- {v} / {p.template_id} ---\n{p.input}\n>>> target: {p.target!r}  options: {p.options}")
