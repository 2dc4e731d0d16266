"""Token F1: bag-of-tokens F1 against the best reference, after SQuAD-style normalisation."""

from __future__ import annotations

import evaluate

from flanlab.metrics._text import TEXT_FEATURES, as_reference_lists
from flanlab.metrics.functions import token_f1_scores

_INPUTS = """predictions: strings; references: a string or a list of strings per example.
Returns {"token_f1": float, "scores": list[float]}."""


class TokenF1(evaluate.Metric):
    """Mean over examples of the best token-overlap F1 (SQuAD's F1)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(description="Token-overlap F1 against the best reference.",
                                   citation="", inputs_description=_INPUTS, features=TEXT_FEATURES)

    def _compute(self, predictions: list[str], references: list) -> dict:
        scores = token_f1_scores(predictions, as_reference_lists(references))
        return {"token_f1": sum(scores) / len(scores) if scores else float("nan"), "scores": scores}
