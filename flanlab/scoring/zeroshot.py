"""Score tasks zero-shot under one template variant, one result per (task, template).

Classification: each option's summed log-likelihood given the input; the argmax is the
prediction (FLAN's rank classification). Generation: greedy decoding, exact match.
All prompts of a call go to the scorer together, so contexts shared across options batch well.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import datasets

from flanlab.scoring.metrics import accuracy, exact_match
from flanlab.scoring.scorers import Scorer
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.spec import Prompt
from flanlab.templates.variants import render_for_scoring


@dataclass
class TemplateResult:
    task: str
    cluster: str
    variant: str
    template_id: str
    metric: str
    value: float
    n: int
    chance: float | None
    correct: list[int]

    def as_dict(self) -> dict:
        return asdict(self)


def render_rows(catalogue: Catalogue, task: str, rows: datasets.Dataset, variant: str,
                options_in_prompt: bool = True) -> list[Prompt]:
    spec = catalogue.spec(task)
    return [p for i, row in enumerate(rows) for p in render_for_scoring(spec, row, i, variant, options_in_prompt=options_in_prompt)]


def score_prompts(scorer: Scorer, prompts: list[Prompt], max_new_tokens: int) -> list[bool]:
    """Whether each prompt was answered correctly."""
    correct = [False] * len(prompts)
    pairs, owners = [], []
    for i, p in enumerate(prompts):
        if p.options:
            for option in p.options:
                pairs.append((p.input, option))
                owners.append(i)
    scores: dict[int, list[float]] = defaultdict(list)
    for owner, value in zip(owners, scorer.loglikelihoods(pairs) if pairs else [], strict=True):
        scores[owner].append(value)
    for i, values in scores.items():
        correct[i] = max(range(len(values)), key=values.__getitem__) == prompts[i].label
    gen = [i for i, p in enumerate(prompts) if not p.options]
    if gen:
        outputs = scorer.generate([prompts[i].input for i in gen], max_new_tokens=max_new_tokens)
        for i, out in zip(gen, outputs, strict=True):
            correct[i] = exact_match([out], [prompts[i].references]) == 1.0
    return correct


def score_tasks(scorer: Scorer, catalogue: Catalogue, rows_by_task: dict[str, datasets.Dataset], variant: str,
                *, max_new_tokens: int = 16, options_in_prompt: bool = True) -> list[TemplateResult]:
    """One ``TemplateResult`` per (task, template) for ``variant``."""
    prompts = [p for task, rows in rows_by_task.items() for p in render_rows(catalogue, task, rows, variant, options_in_prompt)]
    correct = score_prompts(scorer, prompts, max_new_tokens)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(prompts):
        groups[(p.task, p.template_id)].append(i)
    results = []
    for (task, template_id), idx in groups.items():
        spec = catalogue.spec(task)
        hits = [int(correct[i]) for i in idx]
        first = prompts[idx[0]]
        chance = 1.0 / len(first.options) if first.options else None
        results.append(TemplateResult(
            task=task, cluster=spec.cluster, variant=variant, template_id=template_id,
            metric=spec.metric, value=accuracy(hits, [1] * len(hits)), n=len(hits), chance=chance, correct=hits,
        ))
    return results


def eval_rows(catalogue: Catalogue, tasks: Iterable[str], cap: int, *, split: str | None = None) -> dict[str, datasets.Dataset]:
    """Up to ``cap`` evaluation rows per task (its eval split unless ``split`` names another)."""
    out = {}
    for task in tasks:
        rows = catalogue.load(task, split) if split else catalogue.eval_data(task)
        out[task] = rows.select(range(min(cap, len(rows))))
    return out
