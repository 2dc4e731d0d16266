"""The training mixture: capped, examples-proportional, rendered under one template variant.

Each training task contributes at most ``max_per_task`` rows (FLAN capped each dataset), a seeded
random sample of its train split (``sample_order``: the seed and the task name fix it, so a
label-sorted split is not cut to one class); the mixture is their shuffled concatenation, so each
task's share is proportional to its (capped) size. Rendering and tokenising run through batched
``datasets.map``. The mixture records which rows each task drew and their label histograms.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import datasets

from flanlab.data.cot_mix import check_cot_fraction, cot_positions
from flanlab.data.fewshot_mix import FewShotMix, fewshot_positions, plan_examples, with_training_examples
from flanlab.data.maps import fresh_map
from flanlab.data.rates import rated_indices, task_weights
from flanlab.data.truncation import InputLimit
from flanlab.errors import ConfigError
from flanlab.splits import Split
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.rows import sample_order
from flanlab.tasks.spec import TaskSpec
from flanlab.templates.prompt import Prompt
from flanlab.templates.shuffled import donor_pools
from flanlab.templates.variants import NO_CONTEXT, SHUFFLED, VariantContext, check_variant, render_for_training

log = logging.getLogger(__name__)
SKEW_WARN = 0.9  # warn when one class holds more than this share of a capped split


def label_histogram(spec: TaskSpec, rows: datasets.Dataset, split: str | None = None) -> dict[str, int]:
    """Rows per gold answer of a classification task, most common first ({} for generation tasks).

    Fixed option sets count the gold answer string; per-row option lists (``options_field``) count the
    gold position (``"#0"``, ``"#1"``, ...), the only constant answer there. With ``split`` given, a
    one-line warning names the task and split when one class holds over 90% of a split of a task
    with at least two options.
    """
    if not spec.is_classification or len(rows) == 0:
        return {}
    labels = [int(v) for v in rows[spec.label_field]]
    if spec.options_field is None:
        assert spec.options is not None
        golds, n_options = [spec.options[i] for i in labels], len(spec.options)
    else:
        golds, n_options = [f"#{i}" for i in labels], max(len(o) for o in rows[spec.options_field])
    hist = dict(Counter(golds).most_common())
    top, count = next(iter(hist.items()))
    if split is not None and n_options >= 2 and count > SKEW_WARN * len(labels):
        log.warning("task %s split %s: %.0f%% of %d rows have the answer %r", spec.name, split,
                    100 * count / len(labels), len(labels), top)
    return hist


@dataclass(frozen=True)
class ShotRows:
    """One task's few-shot rows: per mixture position, the train rows put before it as solved examples, and the
    train split they come from."""

    chosen: dict[int, list[int]]
    pool: datasets.Dataset


@dataclass
class Mixture:
    """Rendered training examples (columns ``input``, ``target``, ``task``, ``template_id``)."""

    examples: datasets.Dataset
    tasks: list[str]
    rows_per_task: dict[str, int]
    # Per task: the indices into ``catalogue.train_data(task)`` of the rows that trained, in drawing order.
    row_indices: dict[str, list[int]] = field(default_factory=dict)
    # Per classification task: rows per gold answer (``label_histogram``) of its capped train rows.
    label_histograms: dict[str, dict[str, int]] = field(default_factory=dict)
    # Per task: train rows that appear only as solved examples before few-shot rows (the audit counts them too).
    example_indices: dict[str, list[int]] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A hash of every (input, target) pair in order: equal seeds give equal hashes."""
        digest = hashlib.sha256()
        for inp, tgt in zip(self.examples["input"], self.examples["target"], strict=True):
            digest.update(inp.encode())
            digest.update(b"\x1f")
            digest.update(tgt.encode())
            digest.update(b"\x1e")
        return digest.hexdigest()[:16]


def render_task(
    catalogue: Catalogue, name: str, rows: datasets.Dataset, variant: str,
    num_templates: int | None = None, options_in_prompt: bool = True, limit: InputLimit | None = None,
    donors: list | None = None, train_inverted: bool = False, context: VariantContext = NO_CONTEXT,
    cot_rows: set[int] | None = None, shots: ShotRows | None = None,
) -> datasets.Dataset:
    """Render one task's rows (one prompt per row) with batched ``datasets.map``; with ``limit``, a row too
    long for it has its passage shortened first (``flanlab/data/truncation.py``). Rows at ``cot_rows`` positions
    render as chain-of-thought (``flanlab/data/cot_mix.py``); rows at ``shots`` positions after solved examples of
    other train rows (``flanlab/data/fewshot_mix.py``)."""
    spec = catalogue.spec(name)
    fits = (lambda text: limit.count_tokens(text) <= limit.max_len) if limit is not None else None

    def examples(prompt: Prompt, i: int) -> Prompt:
        if shots is None or i not in shots.chosen or (cot_rows and i in cot_rows):
            return prompt
        return with_training_examples(spec, prompt, shots.chosen[i], shots.pool, variant,
                                      options_in_prompt=options_in_prompt, fits=fits, context=context)

    def one(row: dict, i: int):
        return render_for_training(spec, row, i, "cot" if cot_rows and i in cot_rows else variant,
                                   num_templates=num_templates,
                                   options_in_prompt=options_in_prompt, donors=donors, train_inverted=train_inverted,
                                   context=context)

    def batch(columns: dict[str, list], indices: list[int]) -> dict[str, list]:
        rows_ = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        if limit is not None:
            rows_ = [limit.fit(spec, row, lambda r, i=i: one(r, i)) for row, i in zip(rows_, indices, strict=True)]
        prompts = [examples(one(row, i), i) for row, i in zip(rows_, indices, strict=True)]
        return {
            "input": [p.input for p in prompts],
            "target": [p.target for p in prompts],
            "task": [name] * len(prompts),
            "template_id": [p.template_id for p in prompts],
        }

    return fresh_map(rows, batch, batched=True, with_indices=True, remove_columns=rows.column_names,
                     desc=f"render {name}")


def shuffled_donors(catalogue: Catalogue, names: list[str]) -> dict[str, list]:
    """Donor templates per task for the ``shuffled_instruction`` arm, from the mixture's own tasks."""
    specs = [catalogue.spec(n) for n in names]
    first = {n: catalogue.train_data(n)[0] for n in names if len(catalogue.train_data(n))}
    return donor_pools([s for s in specs if s.name in first], first)


def build_mixture(
    catalogue: Catalogue, split: Split, variant: str, *, max_per_task: int, seed: int,
    num_templates: int | None = None, options_in_prompt: bool = True, tasks: Iterable[str] | None = None,
    train_inverted: bool = False, train_heldout: bool = False, limit: InputLimit | None = None,
    held_back: int = 0, cot_fraction: float = 0.0, rates: dict | None = None, size: int | None = None,
    exclude: Mapping[str, Iterable[int]] | None = None, fewshot: FewShotMix | None = None,
) -> Mixture:
    """Render every training task of ``split`` and shuffle them together.

    ``held_back`` templates per task never train (``unseen_paraphrase``); donor variants draw from the mixture's
    own tasks. ``rates`` (task or cluster → weight) replace examples-proportional mixing, for a mixture of
    ``size`` examples (default: the capped total; ``flanlab/data/rates.py``); ``cot_fraction`` of the examples
    render as chain-of-thought (``flanlab/data/cot_mix.py``).

    ``train_heldout`` (the oracle control) lets tasks of held-out clusters train too; their scored rows come from
    another split, so they never train on a scored row. ``exclude`` names train rows (by task, indices into
    ``catalogue.train_data``) that are never drawn: the oracle's dev rows, where a task has no dev split.
    ``fewshot`` renders a share of each task's rows after solved examples (``flanlab/data/fewshot_mix.py``).
    """
    check_variant(variant, key="template.train_variant", training=True)
    cot_fraction = check_cot_fraction(cot_fraction, variant)
    if max_per_task <= 0:
        raise ConfigError(f"data.max_train_per_task must be positive, got {max_per_task}")
    names = list(tasks) if tasks is not None else [t for c in split.train for t in catalogue.clusters[c]]
    heldout = set(split.heldout) | set(split.removed)
    parts, counts, indices, histograms, examples_of = [], {}, {}, {}, {}
    donors = shuffled_donors(catalogue, names) if variant == SHUFFLED else {}
    context = VariantContext([catalogue.spec(n) for n in names], held_back=held_back)
    for name in names:
        indices[name] = _capped(catalogue, split, name, train_heldout, heldout, seed, max_per_task,
                                set((exclude or {}).get(name, ())))
    if rates:
        specs = {n: catalogue.spec(n) for n in names}
        weights = task_weights(specs, {n: len(v) for n, v in indices.items()}, rates)
        indices = rated_indices(indices, weights, int(size or sum(len(v) for v in indices.values())))
    cot = cot_positions({n: catalogue.spec(n) for n in names}, {n: len(v) for n, v in indices.items()},
                        cot_fraction, seed)
    shot_at = fewshot_positions({n: len(v) for n, v in indices.items()}, fewshot)
    for name in names:
        spec = catalogue.spec(name)
        rows = catalogue.train_data(name).select(indices[name])
        counts[name] = len(rows)
        if spec.is_classification:
            histograms[name] = label_histogram(spec, rows, split=spec.train_split)
        shots = _shot_rows(catalogue, name, shot_at.get(name), indices[name], fewshot, (exclude or {}).get(name, ()))
        if shots is not None:
            examples_of[name] = sorted({j for v in shots.chosen.values() for j in v})
        parts.append(render_task(catalogue, name, rows, variant, num_templates, options_in_prompt,
                                 limit=limit, donors=donors.get(name), train_inverted=train_inverted,
                                 context=context, cot_rows=cot.get(name), shots=shots))
    if not parts or sum(counts.values()) == 0:
        raise ConfigError(f"the training mixture is empty for held-out clusters {list(split.heldout)}")
    examples = datasets.concatenate_datasets(parts).shuffle(seed=seed).flatten_indices()
    log.info("mixture: %d examples from %d tasks (%d chain-of-thought)", len(examples), len(names),
             sum(len(v) for v in cot.values()))
    return Mixture(examples=examples, tasks=names, rows_per_task=counts, row_indices=indices,
                   label_histograms=histograms, example_indices=examples_of)


def _shot_rows(catalogue: Catalogue, name: str, k_at: dict[int, int] | None, row_ids: list[int],
               fewshot: FewShotMix | None, banned: Iterable[int]) -> ShotRows | None:
    """A task's few-shot rows with their planned examples (never a ``banned`` row), or None when it has none."""
    if fewshot is None or not k_at:
        return None
    pool = catalogue.train_data(name)
    return ShotRows(plan_examples(name, k_at, row_ids, len(pool), fewshot.seed, set(banned)), pool)


def _capped(catalogue: Catalogue, split: Split, name: str, train_heldout: bool, heldout: set[str], seed: int,
            max_per_task: int, exclude: set[int]) -> list[int]:
    """The seeded sample of at most ``max_per_task`` train rows of one task (never those in ``exclude``), checked
    against the split."""
    spec = catalogue.spec(name)
    if not (train_heldout and spec.cluster in split.heldout) and (
            spec.cluster in heldout or spec.cluster not in split.train):
        raise ConfigError(f"task {name!r} of cluster {spec.cluster!r} may not train under this split")
    order = sample_order(len(catalogue.train_data(name)), seed, name)  # a seeded sample, not a prefix
    return [i for i in order if i not in exclude][:max_per_task] if exclude else order[:max_per_task]

