"""Metrics of flanlab's exported lm-eval tasks; ``flanlab export-tasks`` copies this file next to the task YAMLs as
``utils.py`` (their ``!function utils....`` entries), so it imports nothing from flanlab. ``flanlab.metrics.functions``
builds on its normalisation, token F1, ROUGE-L, best choice and BLEU reference streams, so both score alike.

Every task reports ``score``, the metric flanlab declares for it, so groups can average classification and
generation tasks together as flanlab does. Multiple choice: ``acc`` (argmax of the summed log-likelihoods, the
first on ties), ``acc_norm`` (divided by the choice's length in characters), as lm-eval rules them. Generation:
``exact_match`` after SQuAD-style normalisation against any reference, plus ``token_f1``, ``rouge_l`` (per
example) or ``bleu`` (corpus BLEU / 100) when the task declares one of those.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from functools import cache
from typing import Any

ARTICLES = re.compile(r"\b(a|an|the)\b")
PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (the order flanlab applies them in)."""
    return " ".join(ARTICLES.sub(" ", text.lower().translate(PUNCTUATION)).split())


def best_choice(values: Sequence[float]) -> int:
    """Index of the largest value, the first one on ties."""
    return max(range(len(values)), key=lambda i: values[i])


def process_choice(doc: dict, results: list) -> dict:
    """Rank classification from one (log-likelihood, is_greedy) pair per choice; ``score`` ranks as the cell did."""
    lls = [float(r[0]) for r in results]
    lengths = [max(len(c), 1) for c in doc["options"]]
    hit = float(best_choice(lls) == doc["label"])
    hit_norm = float(best_choice([v / n for v, n in zip(lls, lengths, strict=True)]) == doc["label"])
    return {"acc": hit, "acc_norm": hit_norm, "score": hit_norm if doc["length_normalize"] else hit}


def token_f1(prediction: str, reference: str) -> float:
    """Bag-of-words F1 of two normalised texts."""
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


@cache
def rouge_scorer() -> Any:
    """One ``rouge-score`` ROUGE-L scorer per process (each new one logs "Using default tokenizer")."""
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l(prediction: str, references: Sequence[str]) -> float:
    """The best ROUGE-L F-measure against any reference (rouge-score, no stemming)."""
    return rouge_scorer().score_multi(list(references), prediction)["rougeL"].fmeasure


def process_generation(doc: dict, results: list) -> dict:
    """Greedy output (cut at the stop sequences by lm-eval) scored against the doc's references."""
    prediction, references = results[0].strip(), list(doc["references"])
    hit = float(any(normalize(prediction) == normalize(r) for r in references))
    out = {"exact_match": hit}
    metric = doc["metric"]
    if metric == "token_f1":
        out["token_f1"] = max(token_f1(prediction, r) for r in references)
    elif metric == "rouge_l":
        out["rouge_l"] = rouge_l(prediction, references)
    elif metric == "bleu":
        out["bleu"] = (prediction, references)
    out["score"] = out[metric]
    return out


def reference_streams(references: Sequence[Sequence[str]]) -> list[list[str | None]]:
    """sacrebleu's reference streams: one per reference position, None where an example has fewer references."""
    width = max(len(refs) for refs in references)
    return [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]


def corpus_bleu(items: list) -> float:
    """Corpus BLEU / 100 (sacrebleu) over (prediction, references) pairs; missing references are None."""
    import sacrebleu

    predictions = [p for p, _ in items]
    streams = reference_streams([refs for _, refs in items])
    return float(sacrebleu.corpus_bleu(predictions, streams).score) / 100
