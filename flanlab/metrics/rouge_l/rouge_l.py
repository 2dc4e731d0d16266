"""ROUGE-L F-measure through ``rouge-score`` (no stemming), against the best reference."""

from __future__ import annotations

import evaluate
import rouge_score

from flanlab.metrics._text import TEXT_FEATURES, as_reference_lists
from flanlab.metrics.functions import rouge_l_scores

_INPUTS = """predictions: strings; references: a string or a list of strings per example.
Returns {"rouge_l": mean per-example F-measure, "scores": list[float]}."""


class RougeL(evaluate.Metric):
    """Mean over examples of the longest-common-subsequence F-measure (rouge-score's rougeL)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="ROUGE-L F-measure (rouge-score, rougeL, no stemming), best reference per example.",
            citation="Lin (2004), ROUGE: A Package for Automatic Evaluation of Summaries.",
            inputs_description=_INPUTS, features=TEXT_FEATURES,
            reference_urls=["https://pypi.org/project/rouge-score/"],
        )

    def _compute(self, predictions: list[str], references: list) -> dict:
        scores = rouge_l_scores(predictions, as_reference_lists(references))
        return {"rouge_l": sum(scores) / len(scores) if scores else float("nan"), "scores": scores,
                "rouge_score_version": getattr(rouge_score, "__version__", "")}
