"""k-shot scoring: each scored prompt gets k solved examples of its task, drawn from the task's train split.

The examples of a scored row are fixed by ``scoring.fewshot_seed``, the task and the row's position, never by the
cell's seed, so every arm and seed of a grid sees the same ones. They are rendered with the scored prompt's own
variant and template (``flanlab.templates.fewshot``); a train row whose input text equals the scored row's is never
an example. Under the scorer's input limit, whole examples are dropped (the farthest first), never the query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import datasets

from flanlab.audit import row_text
from flanlab.data.truncation import InputLimit
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.spec import TaskSpec, Template
from flanlab.templates.fewshot import pick_examples, with_examples
from flanlab.templates.prompt import Prompt
from flanlab.templates.variants import NO_CONTEXT, VariantContext, render


@dataclass(frozen=True)
class FewShot:
    """How many examples each scored prompt gets, and the seed that picks them."""

    k: int
    seed: int


def scored_name(variant: str, shots: int) -> str:
    """The name a scoring pass goes by in results, tables and W&B: the variant, with ``+<k>shot`` when k > 0."""
    return variant if shots == 0 else f"{variant}+{shots}shot"


def split_scored_name(name: str) -> tuple[str, int]:
    """``scored_name``'s inverse: ``"instruction+5shot"`` -> ``("instruction", 5)``."""
    variant, _, shots = name.partition("+")
    return (variant, int(shots.removesuffix("shot"))) if shots.endswith("shot") else (name, 0)


def template_of(spec: TaskSpec, template_id: str) -> Template | None:
    """The task's template a prompt was rendered with (None for the template-free variants)."""
    return next((t for t in spec.templates if t.id == template_id), None)


def example_rows(catalogue: Catalogue, task: str) -> tuple[datasets.Dataset, list[str]]:
    """A task's train rows (where examples come from) and their input texts (to keep copies of a scored row out)."""
    rows = catalogue.train_data(task)
    spec = catalogue.spec(task)
    return rows, [row_text(spec, row) for row in rows]


def add_examples(catalogue: Catalogue, task: str, prompts: Sequence[Prompt], rows: Sequence[Mapping[str, Any]],
                 variant: str, fewshot: FewShot, *, options_in_prompt: bool = True, limit: InputLimit | None = None,
                 context: VariantContext = NO_CONTEXT) -> list[Prompt]:
    """Each of ``prompts`` (rendered from ``rows``, by ``row_index``) with ``fewshot.k`` solved examples before it."""
    spec = catalogue.spec(task)
    pool, texts = example_rows(catalogue, task)
    fits = (lambda text: limit.count_tokens(text) <= limit.max_len) if limit is not None else None
    out = []
    for prompt in prompts:
        asked = row_text(spec, rows[prompt.row_index])
        chosen = pick_examples(len(pool), fewshot.k, fewshot.seed, f"{task}/{prompt.row_index}",
                               usable=lambda i, asked=asked: texts[i] != asked)
        template = template_of(spec, prompt.template_id)
        examples = [render(spec, pool[i], variant, template, options_in_prompt=options_in_prompt, row_index=i,
                           context=context) for i in chosen]
        out.append(with_examples(prompt, examples, fits))
    return out
