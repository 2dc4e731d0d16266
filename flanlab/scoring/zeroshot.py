"""Score tasks zero-shot under one template variant, one result per (task, template).

Classification: each option's summed log-likelihood given the input; the argmax is the
prediction (FLAN's rank classification; ``length_normalize`` ranks by log-likelihood per
character instead). Generation: greedy decoding, exact match per example, plus token F1,
ROUGE-L and BLEU per template. All prompts of a call go to the scorer together, so contexts
shared across options and templates batch well.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import datasets

from flanlab.scoring.metrics import classification_metrics, exact_match_hits, generation_metrics, rank_options
from flanlab.scoring.scorers import Scorer
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.spec import Prompt
from flanlab.templates.variants import render_for_scoring


@dataclass
class TemplateResult:
    """One (task, template) under one variant: the primary metric, its per-example hits, and more metrics."""

    task: str
    cluster: str
    variant: str
    template_id: str
    metric: str
    value: float
    n: int
    chance: float | None
    correct: list[int]
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    """What the model answered for one prompt."""

    correct: bool
    by_sum: int | None = None      # classification: option chosen by summed log-likelihood
    by_norm: int | None = None     # ... and by log-likelihood per character
    text: str = ""                 # generation: the decoded output


def render_rows(catalogue: Catalogue, task: str, rows: datasets.Dataset, variant: str,
                options_in_prompt: bool = True) -> list[Prompt]:
    spec = catalogue.spec(task)
    return [p for i, row in enumerate(rows)
            for p in render_for_scoring(spec, row, i, variant, options_in_prompt=options_in_prompt)]


def answer_prompts(scorer: Scorer, prompts: list[Prompt], max_new_tokens: int,
                   length_normalize: bool = False) -> list[Answer]:
    """Rank-classify every prompt with options and greedily answer the rest."""
    pairs, owners = [], []
    for i, p in enumerate(prompts):
        for option in p.options or ():
            pairs.append((p.input, option))
            owners.append(i)
    scores: dict[int, list[float]] = defaultdict(list)
    for owner, value in zip(owners, scorer.loglikelihoods(pairs) if pairs else [], strict=True):
        scores[owner].append(value)
    answers = [Answer(False) for _ in prompts]
    for i, values in scores.items():
        options = prompts[i].options or ()
        by_sum, by_norm = rank_options(values, options), rank_options(values, options, length_normalize=True)
        chosen = by_norm if length_normalize else by_sum
        answers[i] = Answer(chosen == prompts[i].label, by_sum=by_sum, by_norm=by_norm)
    gen = [i for i, p in enumerate(prompts) if not p.options]
    if gen:
        outputs = scorer.generate([prompts[i].input for i in gen], max_new_tokens=max_new_tokens)
        hits = exact_match_hits(outputs, [prompts[i].references for i in gen])
        for i, out, hit in zip(gen, outputs, hits, strict=True):
            answers[i] = Answer(bool(hit), text=out)
    return answers


def score_prompts(scorer: Scorer, prompts: list[Prompt], max_new_tokens: int,
                  length_normalize: bool = False) -> list[bool]:
    """Whether each prompt was answered correctly."""
    return [a.correct for a in answer_prompts(scorer, prompts, max_new_tokens, length_normalize)]


def _template_metrics(prompts: list[Prompt], answers: list[Answer]) -> dict[str, float]:
    if prompts[0].options:
        labels = [int(p.label) for p in prompts if p.label is not None]
        return classification_metrics([int(a.by_sum) for a in answers if a.by_sum is not None],
                                      [int(a.by_norm) for a in answers if a.by_norm is not None], labels)
    return generation_metrics([a.text for a in answers], [p.references for p in prompts])


def score_tasks(scorer: Scorer, catalogue: Catalogue, rows_by_task: dict[str, datasets.Dataset], variant: str,
                *, max_new_tokens: int = 16, options_in_prompt: bool = True,
                length_normalize: bool = False) -> list[TemplateResult]:
    """One ``TemplateResult`` per (task, template) for ``variant``; ``correct`` is in row order."""
    prompts = [p for task, rows in rows_by_task.items()
               for p in render_rows(catalogue, task, rows, variant, options_in_prompt)]
    answers = answer_prompts(scorer, prompts, max_new_tokens, length_normalize)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(prompts):
        groups[(p.task, p.template_id)].append(i)
    results = []
    for (task, template_id), idx in groups.items():
        spec = catalogue.spec(task)
        hits = [int(answers[i].correct) for i in idx]
        first = prompts[idx[0]]
        chance = 1.0 / len(first.options) if first.options else None
        results.append(TemplateResult(
            task=task, cluster=spec.cluster, variant=variant, template_id=template_id,
            metric=spec.metric, value=sum(hits) / len(hits), n=len(hits), chance=chance, correct=hits,
            extra=_template_metrics([prompts[i] for i in idx], [answers[i] for i in idx]),
        ))
    return results


def eval_rows(catalogue: Catalogue, tasks: Iterable[str], cap: int, *, split: str | None = None,
              offset: int = 0) -> dict[str, datasets.Dataset]:
    """Up to ``cap`` rows per task from its eval split (or ``split``), starting at row ``offset``."""
    out = {}
    for task in tasks:
        rows = catalogue.load(task, split) if split else catalogue.eval_data(task)
        out[task] = rows.select(range(min(offset, len(rows)), min(offset + cap, len(rows))))
    return out
