"""How much of a training mixture the input alone cannot determine.

A mixture whose every input maps to one target can be fitted from its layout alone, and then nothing in training
asks a model to read an instruction. The measure: render the training rows with no template (the row's fields and
options only) and count the rows whose input also occurs with a *different* target elsewhere in the mixture.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from flanlab.tasks.catalogue import Catalogue
from flanlab.templates.variants import render


def ambiguity(catalogue: Catalogue, row_indices: Mapping[str, Sequence[int]]) -> float:
    """Fraction of the no-template training inputs (rows ``row_indices[task]`` of each task's train split)
    that occur with more than one target."""
    targets: dict[str, set[str]] = defaultdict(set)
    inputs: list[str] = []
    for task, indices in row_indices.items():
        spec = catalogue.spec(task)
        rows = catalogue.train_data(task).select(list(indices))
        for row in rows:
            prompt = render(spec, row, "no_template")
            targets[prompt.input].add(prompt.target)
            inputs.append(prompt.input)
    if not inputs:
        return 0.0
    return sum(len(targets[i]) > 1 for i in inputs) / len(inputs)
