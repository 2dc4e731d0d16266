"""Render any task x variant x template for one row: what the prompt-explorer notebook shows."""

from __future__ import annotations

from flanlab.tasks.catalogue import Catalogue
from flanlab.templates.prompt import Prompt
from flanlab.templates.variants import check_variant, render


def render_prompt(catalogue: Catalogue, task: str, variant: str, template_id: str | None = None, row: int = 0,
                  *, split: str = "validation", options_in_prompt: bool = True) -> Prompt:
    """The prompt for row ``row`` of ``task``'s ``split`` under ``variant`` (and template, for instructions)."""
    spec = catalogue.spec(task)
    check_variant(variant)
    rows = catalogue.eval_data(task) if split == "validation" else catalogue.train_data(task)
    if not 0 <= row < len(rows):
        raise IndexError(f"task {task!r} has {len(rows)} {split} rows; row {row} does not exist")
    template = None
    if variant == "instruction":
        ids = [t.id for t in spec.templates]
        template = spec.templates[ids.index(template_id)] if template_id in ids else spec.templates[0]
        if template_id is not None and template_id not in ids:
            raise KeyError(f"task {task!r} has no template {template_id!r}; templates: {', '.join(ids)}")
    return render(spec, rows[row], variant, template, options_in_prompt=options_in_prompt, row_index=row)
