"""Per-template metrics: accuracy by rank classification, exact match for generation."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from sklearn.metrics import accuracy_score

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and articles, squeeze spaces (SQuAD-style)."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def exact_match(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Fraction of predictions equal, after normalisation, to any of their references."""
    hits = [
        any(normalize_answer(p) == normalize_answer(r) for r in refs)
        for p, refs in zip(predictions, references, strict=True)
    ]
    return sum(hits) / len(hits) if hits else float("nan")


def accuracy(predicted: Sequence[int], labels: Sequence[int]) -> float:
    return float(accuracy_score(labels, predicted)) if labels else float("nan")
