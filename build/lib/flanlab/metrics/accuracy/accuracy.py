"""Accuracy: the fraction of predictions equal to their reference (option indices, or exact strings)."""

from __future__ import annotations

import datasets
import evaluate

_DESCRIPTION = "Accuracy over examples; per-example scores are 1 (equal) or 0."
_INPUTS = """predictions: predicted labels (int) or strings; references: gold labels (int) or strings, same type.
Returns {"accuracy": float, "scores": list[float]}."""


class Accuracy(evaluate.Metric):
    """flanlab's accuracy metric (rank-classification hits)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description=_INPUTS,
            features=[datasets.Features({"predictions": datasets.Value(kind), "references": datasets.Value(kind)})
                      for kind in ("int64", "string")],
        )

    def _compute(self, predictions: list, references: list) -> dict:
        scores = [float(p == r) for p, r in zip(predictions, references, strict=True)]
        return {"accuracy": sum(scores) / len(scores) if scores else float("nan"), "scores": scores}
