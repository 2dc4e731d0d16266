"""Shared ``evaluate`` features for flanlab's text metrics: one prediction, one or several references."""

from __future__ import annotations

from collections.abc import Sequence

import datasets

TEXT_FEATURES = [
    datasets.Features({"predictions": datasets.Value("string"),
                       "references": datasets.List(datasets.Value("string"))}),
    datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
]


def as_reference_lists(references: Sequence[str | Sequence[str]]) -> list[list[str]]:
    """Each example's references as a list (a bare string is one reference)."""
    return [[r] if isinstance(r, str) else list(r) for r in references]
