"""Score tasks zero-shot under one template variant, one result per (task, template).

Classification: each option's summed log-likelihood given the input; the argmax is the
prediction (FLAN's rank classification; ``length_normalize`` ranks by log-likelihood per
character instead). Generation: greedy decoding. The task's declared metric (``TaskSpec.metric``,
an ``evaluate`` module, see ``flanlab.metrics``) gives each template's ``value`` and per-example
``correct`` scores; every other metric goes under ``other_metrics``, and each example's prediction is kept
(``predictions``). All prompts of a call go to the scorer together, so contexts shared across
options and templates batch well.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import datasets

from flanlab.data.mixture import label_histogram
from flanlab.data.truncation import InputLimit
from flanlab.metrics import check_metric, metric_scores
from flanlab.metrics.functions import classification_metrics, exact_match_hits, generation_metrics, rank_options
from flanlab.scoring import cot
from flanlab.scoring.fewshot import FewShot, add_examples
from flanlab.scoring.scorers import Scorer
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.rows import sample_order
from flanlab.tasks.spec import TaskSpec
from flanlab.templates.cot import COT
from flanlab.templates.prompt import Prompt
from flanlab.templates.variants import NO_CONTEXT, VariantContext, render_for_scoring

LOGLIK_OPTIONS = 8     # options whose log-likelihoods each kept prediction lists
PICK_RATE_TOP = 10     # most chosen answers listed in ``pick_rate``
SAMPLES_PER_TASK = 3   # prompts per (task, variant) kept verbatim for the HTML report


@dataclass
class TemplateResult:
    """One (task, template) under one variant: the declared metric, its per-example scores, and more.

    ``correct``: per example (row order), the declared metric's score: 0/1 for accuracy and exact
    match, the example's ROUGE-L / token F1, or sentence BLEU / 100. ``value``: the metric over all
    examples (for BLEU, corpus BLEU / 100). ``predictions``: one dict per example (``picked``, ``gold``,
    ``picked_index``, ``gold_index``, ``loglik``, ``loglik_norm``, ``text``). ``type_correct``:
    classification only, 1 where the picked option has the gold's answer type. ``pick_rate``: share
    of examples per answer, for the most chosen ones. ``samples``: a few prompts kept verbatim (``row``,
    ``prompt``, ``options``, ``chosen``, ``gold``), at most ``SAMPLES_PER_TASK`` per task over its templates.
    ``override``: for variants that state another answer (``OVERRIDE_VARIANTS``), per example 1 where the
    prediction follows the stated task, 0 where it does not, None where the stated and original answers agree.
    """

    task: str
    cluster: str
    variant: str
    template_id: str
    metric: str
    value: float
    n: int
    chance: float | None
    correct: list[float]
    other_metrics: dict[str, float] = field(default_factory=dict)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    type_correct: list[int] | None = None
    pick_rate: dict[str, float] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    override: list[int | None] | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    """What the model answered for one prompt."""

    correct: bool
    by_sum: int | None = None      # classification: option chosen by summed log-likelihood
    by_norm: int | None = None     # ... and by log-likelihood per character
    chosen: int | None = None      # ... the one that counts (by_norm when length-normalising)
    loglik: list[float] = field(default_factory=list)  # summed log-likelihood of each option
    text: str = ""                 # generation: the decoded output (for CoT prompts: the answer after the marker)
    raw: str = ""                  # CoT prompts: the whole generation
    marker: bool | None = None     # CoT prompts: whether the answer marker was found (flanlab/scoring/cot.py)


def render_rows(catalogue: Catalogue, task: str, rows: datasets.Dataset, variant: str,
                options_in_prompt: bool = True, limit: InputLimit | None = None,
                context: VariantContext = NO_CONTEXT, fewshot: FewShot | None = None) -> list[Prompt]:
    """Every scored prompt of ``rows`` under ``variant`` (with ``fewshot``, each after its solved examples)."""
    spec = catalogue.spec(task)
    opts = {"options_in_prompt": options_in_prompt, "context": context}
    if limit is not None:  # a row too long for the limit has its passage shortened (flanlab/data/truncation.py)
        rows = [limit.fit(spec, row, lambda r, i=i: list(render_for_scoring(spec, r, i, variant, **opts)))
                for i, row in enumerate(rows)]
    prompts = [p for i, row in enumerate(rows) for p in render_for_scoring(spec, row, i, variant, **opts)]
    if fewshot is None or fewshot.k == 0:
        return prompts
    return add_examples(catalogue, task, prompts, rows, variant, fewshot, limit=limit, **opts)


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
        scores[owner].append(float(value))
    answers = [Answer(False) for _ in prompts]
    for i, values in scores.items():
        options = prompts[i].options or ()
        by_sum, by_norm = rank_options(values, options), rank_options(values, options, length_normalize=True)
        chosen = by_norm if length_normalize else by_sum
        answers[i] = Answer(chosen == prompts[i].label, by_sum=by_sum, by_norm=by_norm, chosen=chosen, loglik=values)
    gen = [i for i, p in enumerate(prompts) if not p.options]
    if gen:
        outputs = scorer.generate([prompts[i].input for i in gen], max_new_tokens=max_new_tokens)
        texts, found = cot.read_outputs([prompts[i].variant for i in gen], outputs)
        hits = exact_match_hits(texts, [prompts[i].references for i in gen])
        for i, out, text, marker, hit in zip(gen, outputs, texts, found, hits, strict=True):
            answers[i] = Answer(bool(hit), text=text, raw=out if marker is not None else "", marker=marker)
    return answers


def prediction(prompt: Prompt, answer: Answer) -> dict[str, Any]:
    """One kept prediction: what was picked (or generated), the gold answer, and the option scores."""
    if not prompt.options:
        gold = prompt.references[0] if prompt.references else ""
        out = {"picked": answer.text, "gold": gold, "picked_index": None, "gold_index": None,
               "loglik": [], "loglik_norm": [], "text": answer.text}
        return out | ({"raw": answer.raw, "marker": answer.marker} if answer.marker is not None else {})
    options, chosen = prompt.options, answer.chosen
    loglik = answer.loglik[:LOGLIK_OPTIONS]
    out = {"picked": options[chosen] if chosen is not None else "",
           "gold": options[prompt.label] if prompt.label is not None else "",
           "picked_index": chosen, "gold_index": prompt.label, "loglik": loglik,
           "loglik_norm": [s / max(len(o), 1) for s, o in zip(loglik, options, strict=False)], "text": ""}
    if prompt.stated_task is not None or prompt.stated_label is not None or prompt.original_label is not None:
        out |= {"stated_task": prompt.stated_task, "stated_index": prompt.stated_label,
                "original_index": prompt.original_label}
    return out


def override_flags(preds: Sequence[dict]) -> list[int | None] | None:
    """Per example, whether the prediction follows the *stated* task (1) rather than the original one (0); None
    where the two answers are the same or either is unknown. None when no prediction records both."""
    if not any("stated_index" in d for d in preds):
        return None
    out: list[int | None] = []
    for d in preds:
        stated, original = d.get("stated_index"), d.get("original_index")
        out.append(None if stated is None or original is None or stated == original
                   else int(d["picked_index"] == stated))
    return out


def scored_metric(spec: TaskSpec, prompt: Prompt) -> str:
    """The metric a prompt is scored by: the task's, except exact match for generation prompts of a
    classification task (inverted templates, when scored)."""
    if prompt.variant == COT:  # the answer read after the marker, by the task's own metric (docs/cot.md)
        return spec.metric
    return "exact_match" if spec.is_classification and not prompt.options else spec.metric


def _metric_inputs(metric: str, prompts: Sequence[Prompt], preds: Sequence[dict]) -> tuple[list, list]:
    """What ``metric`` compares: option indices for accuracy on classification, else texts vs references."""
    classification = bool(prompts[0].options)
    if metric == "accuracy":
        if classification:
            return [-1 if d["picked_index"] is None else d["picked_index"] for d in preds], \
                   [d["gold_index"] for d in preds]
        return [d["picked"] for d in preds], [d["gold"] for d in preds]
    if classification:
        return [d["picked"] for d in preds], [[d["gold"]] for d in preds]
    return [d["picked"] for d in preds], [list(p.references) for p in prompts]


def type_metrics(spec: TaskSpec, prompts: Sequence[Prompt], preds: Sequence[dict]) -> tuple[list[int], dict]:
    """Per-example answer-type hits, and ``type_acc``, ``acc_given_type``, ``chance_given_type``, ``majority``.

    ``majority`` is the share of the most common gold answer among these examples (the gold position for
    per-row option lists): what always giving one answer would score.
    """
    type_ok = [int(spec.answer_type(d["picked"]) == spec.answer_type(d["gold"])) for d in preds]
    hits = [int(d["picked_index"] == d["gold_index"]) for d in preds]
    typed = [h for h, t in zip(hits, type_ok, strict=True) if t]
    chance = []
    for p, d in zip(prompts, preds, strict=True):
        gold_type = spec.answer_type(d["gold"])
        chance.append(1 / sum(spec.answer_type(o) == gold_type for o in p.options or ()))
    golds = [d["gold"] if spec.options_field is None else f"#{d['gold_index']}" for d in preds]
    n = len(preds)
    return type_ok, {"type_acc": sum(type_ok) / n, "acc_given_type": sum(typed) / len(typed) if typed else float("nan"),
                     "chance_given_type": sum(chance) / n, "majority": Counter(golds).most_common(1)[0][1] / n}


def pick_rates(preds: Sequence[dict], top: int = PICK_RATE_TOP) -> dict[str, float]:
    """Share of examples per picked (or generated) answer, for the ``top`` most common ones."""
    return {text: count / len(preds) for text, count in Counter(d["picked"] for d in preds).most_common(top)}


def _other_metrics(prompts: list[Prompt], answers: list[Answer]) -> dict[str, float]:
    if prompts[0].options:
        labels = [int(p.label) for p in prompts if p.label is not None]
        return classification_metrics([int(a.by_sum) for a in answers if a.by_sum is not None],
                                      [int(a.by_norm) for a in answers if a.by_norm is not None], labels)
    return generation_metrics([a.text for a in answers], [p.references for p in prompts])


def sample_positions(groups: dict[tuple[str, str], list[int]],
                     per_task: int = SAMPLES_PER_TASK) -> dict[tuple[str, str], list[int]]:
    """Which prompts of each (task, template) group to keep as samples (positions within the group): the
    j-th of a task's ``per_task`` samples is row j under its template j mod K, so they show different
    templates and different rows."""
    by_task: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in groups:
        by_task[key[0]].append(key)
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for keys in by_task.values():
        for j in range(per_task):
            key = keys[j % len(keys)]
            if j < len(groups[key]):
                out[key].append(j)
    return out


def sample(prompt: Prompt, pred: dict[str, Any]) -> dict[str, Any]:
    """One prompt as the model saw it, with the options it ranked, what it chose and the gold answer."""
    return {"row": prompt.row_index, "prompt": prompt.input, "options": list(prompt.options or ())[:LOGLIK_OPTIONS],
            "chosen": pred["picked"], "gold": pred["gold"]}


def template_result(spec: TaskSpec, variant: str, template_id: str, prompts: list[Prompt],
                    answers: list[Answer], sample_at: Sequence[int] = ()) -> TemplateResult:
    """The result of one (task, template): declared metric, other metrics, kept predictions, and the prompts
    at positions ``sample_at`` verbatim."""
    preds = [prediction(p, a) for p, a in zip(prompts, answers, strict=True)]
    metric = scored_metric(spec, prompts[0])
    value, scores = metric_scores(metric, *_metric_inputs(metric, prompts, preds))
    others, type_ok = _other_metrics(prompts, answers) | cot.marker_counts(preds), None
    if any(p.shots for p in prompts):
        others["shots"] = sum(p.shots for p in prompts) / len(prompts)
    if prompts[0].options:
        type_ok, typed = type_metrics(spec, prompts, preds)
        others |= typed
    return TemplateResult(
        task=spec.name, cluster=spec.cluster, variant=variant, template_id=template_id, metric=metric,
        value=value, n=len(prompts), chance=1.0 / len(prompts[0].options) if prompts[0].options else None,
        correct=scores, other_metrics=others, predictions=preds, type_correct=type_ok, pick_rate=pick_rates(preds),
        samples=[sample(prompts[i], preds[i]) for i in sample_at], override=override_flags(preds),
    )


def score_tasks(scorer: Scorer, catalogue: Catalogue, rows_by_task: dict[str, datasets.Dataset], variant: str,
                *, max_new_tokens: int = 16, options_in_prompt: bool = True,
                length_normalize: bool = False, limit: InputLimit | None = None,
                held_back: int = 0, fewshot: FewShot | None = None) -> list[TemplateResult]:
    """One ``TemplateResult`` per (task, template) for ``variant``; ``correct`` is in row order. With ``limit``,
    rows too long for the scorer have their passage shortened first. Donor variants draw from every task of the
    catalogue; ``held_back`` templates per task form the ``unseen_paraphrase`` pool; ``fewshot`` scores k-shot
    (``flanlab.scoring.fewshot``; the examples kept per prompt, on average, are ``other_metrics['shots']``).

    Every task's metric is resolved first, so an unknown one fails (one line) before any scoring.
    """
    for task in rows_by_task:
        check_metric(catalogue.spec(task).metric, task)
    context = VariantContext(list(catalogue.specs.values()), held_back=held_back)
    prompts = [p for task, rows in rows_by_task.items()
               for p in render_rows(catalogue, task, rows, variant, options_in_prompt, limit, context, fewshot)]
    if hasattr(scorer, "label"):  # names this pass on the scorer's progress bar
        scorer.label = f"score {variant} ({len(rows_by_task)} tasks)"
    answers = answer_prompts(scorer, prompts, max_new_tokens, length_normalize)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(prompts):
        groups[(p.task, p.template_id)].append(i)
    keep = sample_positions(groups)
    return [template_result(catalogue.spec(task), variant, template_id, [prompts[i] for i in idx],
                            [answers[i] for i in idx], keep.get((task, template_id), ()))
            for (task, template_id), idx in groups.items()]


def eval_rows(catalogue: Catalogue, tasks: Iterable[str], cap: int, *, split: str | None = None,
              offset: int = 0, seed: int = 0) -> dict[str, datasets.Dataset]:
    """Up to ``cap`` rows per task from its eval split (or ``split``): a seeded random sample.

    The rows are the task's split in ``sample_order(len, seed, task)`` order, from position ``offset``;
    ``seed`` is ``data.eval_sample_seed``, not the cell seed, so every arm and seed of a grid scores the
    same rows (paired comparisons). Disjoint offsets give disjoint samples.
    """
    out = {}
    for task in tasks:
        rows = catalogue.usable(task, split, catalogue.load(task, split)) if split else catalogue.eval_data(task)
        order = sample_order(len(rows), seed, task)
        out[task] = rows.select(order[min(offset, len(rows)):offset + cap])
    return out


def eval_label_histograms(catalogue: Catalogue, rows_by_task: dict[str, datasets.Dataset],
                          split: str = "eval") -> dict[str, dict[str, int]]:
    """``label_histogram`` of each classification task's scored rows (warns on a >90% class)."""
    return {task: label_histogram(catalogue.spec(task), rows, split=split)
            for task, rows in rows_by_task.items() if catalogue.spec(task).is_classification}
