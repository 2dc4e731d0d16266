"""BLEU through ``sacrebleu``, scaled to 0-1: corpus BLEU as the value, sentence BLEU per example."""

from __future__ import annotations

import evaluate
import sacrebleu

from flanlab.metrics._text import TEXT_FEATURES, as_reference_lists
from flanlab.metrics.functions import bleu, sentence_bleu_scores

_INPUTS = """predictions: strings; references: a string or a list of strings per example.
Returns {"bleu": corpus BLEU / 100, "scores": sentence BLEU / 100 per example}."""


class Bleu(evaluate.Metric):
    """sacrebleu's corpus BLEU (13a tokenisation) and smoothed sentence BLEU, both divided by 100."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="sacrebleu BLEU / 100: corpus BLEU over all examples, sentence BLEU per example.",
            citation="Post (2018), A Call for Clarity in Reporting BLEU Scores.",
            inputs_description=_INPUTS, features=TEXT_FEATURES,
            reference_urls=["https://pypi.org/project/sacrebleu/"],
        )

    def _compute(self, predictions: list[str], references: list) -> dict:
        refs = as_reference_lists(references)
        scores = [s / 100 for s in sentence_bleu_scores(predictions, refs)]
        return {"bleu": bleu(predictions, refs) / 100, "scores": scores, "sacrebleu_version": sacrebleu.__version__}
