"""Which training rows are rendered few-shot (``template.fewshot_fraction``), and with how many examples.

``fewshot_fraction`` is the few-shot share of each task's mixture rows, chosen by a seeded order; each chosen row
gets k solved examples, k drawn (seeded) from ``template.fewshot_shots`` = [lowest, highest]. The examples are
other rows of the task's train split, rendered with the row's own training template
(``flanlab.templates.fewshot``); every other row stays zero-shot. So an arm with few-shot rows and one without
train on the same rows, in the same order, and differ only in the examples put before the chosen ones.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from flanlab.errors import ConfigError
from flanlab.tasks.spec import TaskSpec
from flanlab.templates.fewshot import pick_examples, with_examples
from flanlab.templates.prompt import Prompt
from flanlab.templates.variants import NO_CONTEXT, VariantContext, render


@dataclass(frozen=True)
class FewShotMix:
    """The few-shot share of the mixture, the range of k, and the seed (the cell's) that chooses rows and k."""

    fraction: float
    shots: tuple[int, int]
    seed: int

    @classmethod
    def from_config(cls, fraction: float, shots: Sequence[int], seed: int) -> FewShotMix | None:
        """``None`` for a zero-shot mixture; a one-line error for a fraction outside [0, 1] or a bad range."""
        if not 0.0 <= float(fraction) <= 1.0:
            raise ConfigError(f"template.fewshot_fraction must be in [0, 1], got {fraction}")
        low, high = (int(k) for k in shots)
        if not 1 <= low <= high:
            raise ConfigError(f"template.fewshot_shots must be [lowest, highest] with 1 <= lowest <= highest, got "
                              f"{list(shots)}")
        return cls(float(fraction), (low, high), int(seed)) if fraction > 0 else None


def fewshot_positions(counts: Mapping[str, int], mix: FewShotMix | None) -> dict[str, dict[int, int]]:
    """Per task, the positions (within its mixture rows) rendered few-shot, each with its k."""
    if mix is None:
        return {}
    out = {}
    for name, count in counts.items():
        rng = np.random.default_rng([zlib.crc32(f"fewshot/{name}".encode()), mix.seed % 2**32])
        chosen = rng.permutation(count)[: round(mix.fraction * count)].tolist()
        ks = rng.integers(mix.shots[0], mix.shots[1] + 1, size=len(chosen)).tolist()
        out[name] = dict(zip(chosen, ks, strict=True))
    return out


def plan_examples(name: str, k_at: Mapping[int, int], row_ids: Sequence[int], pool_size: int, seed: int,
                  banned: set[int] = frozenset()) -> dict[int, list[int]]:
    """For each few-shot position of task ``name``, the train rows that serve as its examples: seeded, never the
    row itself, never a ``banned`` row (rows that must not train, e.g. the oracle's dev rows)."""
    return {i: pick_examples(pool_size, k, seed, f"{name}/train/{row_ids[i]}", exclude=row_ids[i],
                             usable=(lambda j: j not in banned) if banned else None)
            for i, k in k_at.items()}


def with_training_examples(spec: TaskSpec, prompt: Prompt, chosen: Sequence[int], pool: Any, variant: str, *,
                           options_in_prompt: bool = True, fits: Callable[[str], bool] | None = None,
                           context: VariantContext = NO_CONTEXT) -> Prompt:
    """A training ``prompt`` after the ``chosen`` train rows of its task, rendered with the same template;
    unchanged when its template is not one of the task's own (a donor's, or chain of thought)."""
    template = next((t for t in spec.templates if t.id == prompt.template_id), None)
    if prompt.variant not in ("instruction", "no_template", "dataset_name", "bare_dataset_name", "opaque_tag") or (
            template is None and prompt.variant == "instruction"):
        return prompt
    examples = [render(spec, pool[i], variant, template, options_in_prompt=options_in_prompt, row_index=i,
                       context=context) for i in chosen]
    return with_examples(prompt, examples, fits)
