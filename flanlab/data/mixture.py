"""The training mixture: capped, examples-proportional, rendered under one template variant.

Each training task contributes at most ``max_per_task`` rows (FLAN capped each dataset); the
mixture is their shuffled concatenation, so each task's share is proportional to its (capped)
size. Rendering and tokenising run through batched ``datasets.map``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import datasets

from flanlab.errors import ConfigError
from flanlab.splits import Split
from flanlab.tasks.catalogue import Catalogue
from flanlab.templates.variants import check_variant, render_for_training

log = logging.getLogger(__name__)


@dataclass
class Mixture:
    """Rendered training examples (columns ``input``, ``target``, ``task``, ``template_id``)."""

    examples: datasets.Dataset
    tasks: list[str]
    rows_per_task: dict[str, int]

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
    num_templates: int | None = None, options_in_prompt: bool = True,
) -> datasets.Dataset:
    """Render one task's rows (one prompt per row) with batched ``datasets.map``."""
    spec = catalogue.spec(name)

    def batch(columns: dict[str, list], indices: list[int]) -> dict[str, list]:
        rows_ = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        prompts = [
            render_for_training(spec, row, i, variant, num_templates=num_templates, options_in_prompt=options_in_prompt)
            for row, i in zip(rows_, indices, strict=True)
        ]
        return {
            "input": [p.input for p in prompts],
            "target": [p.target for p in prompts],
            "task": [name] * len(prompts),
            "template_id": [p.template_id for p in prompts],
        }

    return rows.map(batch, batched=True, with_indices=True, remove_columns=rows.column_names, desc=f"render {name}")


def build_mixture(
    catalogue: Catalogue, split: Split, variant: str, *, max_per_task: int, seed: int,
    num_templates: int | None = None, options_in_prompt: bool = True, tasks: Iterable[str] | None = None,
) -> Mixture:
    """Render every training task of ``split`` and shuffle them together."""
    check_variant(variant, key="template.train_variant")
    if max_per_task <= 0:
        raise ConfigError(f"data.max_train_per_task must be positive, got {max_per_task}")
    names = list(tasks) if tasks is not None else [t for c in split.train for t in catalogue.clusters[c]]
    heldout = set(split.heldout) | set(split.removed)
    parts, counts = [], {}
    for name in names:
        cluster = catalogue.spec(name).cluster
        if cluster in heldout or cluster not in split.train:
            raise ConfigError(f"task {name!r} of cluster {cluster!r} may not train under this split")
        rows = catalogue.train_data(name)
        rows = rows.select(range(min(len(rows), max_per_task)))
        counts[name] = len(rows)
        parts.append(render_task(catalogue, name, rows, variant, num_templates, options_in_prompt))
    if not parts or sum(counts.values()) == 0:
        raise ConfigError(f"the training mixture is empty for held-out clusters {list(split.heldout)}")
    examples = datasets.concatenate_datasets(parts).shuffle(seed=seed).flatten_indices()
    log.info("mixture: %d examples from %d tasks", len(examples), len(names))
    return Mixture(examples=examples, tasks=names, rows_per_task=counts)
