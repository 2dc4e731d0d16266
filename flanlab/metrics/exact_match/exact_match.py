"""Exact match: 1 when the prediction equals any reference after SQuAD-style normalisation."""

from __future__ import annotations

import evaluate

from flanlab.metrics._text import TEXT_FEATURES, as_reference_lists
from flanlab.metrics.functions import exact_match_hits

_INPUTS = """predictions: strings; references: a string or a list of strings per example.
Returns {"exact_match": float, "scores": list[float]}."""


class ExactMatch(evaluate.Metric):
    """Normalised exact match (lower case, no punctuation or articles, squeezed spaces)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(description="Normalised exact match against the best reference.",
                                   citation="", inputs_description=_INPUTS, features=TEXT_FEATURES)

    def _compute(self, predictions: list[str], references: list) -> dict:
        scores = [float(h) for h in exact_match_hits(predictions, as_reference_lists(references))]
        return {"exact_match": sum(scores) / len(scores) if scores else float("nan"), "scores": scores}

