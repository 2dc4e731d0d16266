"""Per-template metrics, computed offline.

Classification: rank classification (the option with the highest summed log-likelihood, FLAN's
rule; or, as an option, the highest log-likelihood per character of the option), accuracy, and
macro-F1 through scikit-learn. Generation: exact match and token F1 (SQuAD-style normalisation),
ROUGE-L F-measure (``rouge-score``) and BLEU (``sacrebleu``), all against the best of each
example's references. Each metric has a per-example form (``*_scores``) for bootstraps; the
``evaluate`` modules beside this file (``flanlab/metrics/<name>/``) wrap these functions. Normalisation, token F1,
ROUGE-L, the best choice and BLEU's reference streams come from ``flanlab.metrics.portable``, the file exported
lm-eval tasks copy, so both score alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.metrics import accuracy_score, f1_score

from flanlab.metrics.portable import best_choice, reference_streams
from flanlab.metrics.portable import normalize as normalize_answer  # SQuAD-style: lower, no punctuation or articles
from flanlab.metrics.portable import rouge_l as _rouge_l
from flanlab.metrics.portable import token_f1 as _token_f1


def rank_options(scores: Sequence[float], options: Sequence[str], length_normalize: bool = False,
                 unit: str = "chars") -> int:
    """Index of the best option (the first one on ties): highest summed log-likelihood, or, when
    ``length_normalize``, highest log-likelihood per unit of the option's length.

    The rules of lm-evaluation-harness 0.4.13 (``ConfigurableTask.process_results``): ``acc`` is the
    argmax of the sums; ``acc_norm`` divides by ``len(choice)`` in *characters* (``unit="chars"``) and
    ``acc_bytes`` by its UTF-8 bytes (``unit="bytes"``), both of the choice without the leading target
    delimiter it was scored with. An empty option counts as length 1.
    """
    if len(scores) != len(options) or not scores:
        raise ValueError(f"{len(scores)} scores for {len(options)} options")
    if unit not in ("chars", "bytes"):
        raise ValueError(f"unit must be 'chars' or 'bytes', got {unit!r}")
    size = (lambda o: len(o)) if unit == "chars" else (lambda o: len(o.encode("utf-8")))
    values = [s / max(size(o), 1) for s, o in zip(scores, options, strict=True)] if length_normalize else list(scores)
    return best_choice(values)


def accuracy(predicted: Sequence[int], labels: Sequence[int]) -> float:
    return float(accuracy_score(labels, predicted)) if labels else float("nan")


def macro_f1(predicted: Sequence[int], labels: Sequence[int]) -> float:
    """Unweighted mean of per-class F1 over the classes seen in labels or predictions (scikit-learn)."""
    return float(f1_score(labels, predicted, average="macro", zero_division=0)) if labels else float("nan")


def exact_match_hits(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> list[int]:
    """Per example: 1 if the prediction equals, after normalisation, any of its references."""
    return [
        int(any(normalize_answer(p) == normalize_answer(r) for r in refs))
        for p, refs in zip(predictions, references, strict=True)
    ]


def exact_match(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Fraction of predictions equal, after normalisation, to any of their references."""
    hits = exact_match_hits(predictions, references)
    return sum(hits) / len(hits) if hits else float("nan")


def _mean(scores: Sequence[float]) -> float:
    return sum(scores) / len(scores) if scores else float("nan")


def token_f1_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> list[float]:
    """Per example: the best bag-of-tokens F1 against any reference."""
    return [max(_token_f1(p, r) for r in refs) for p, refs in zip(predictions, references, strict=True)]


def token_f1(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Mean over examples of the best bag-of-tokens F1 against any reference."""
    return _mean(token_f1_scores(predictions, references))


def rouge_l_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> list[float]:
    """Per example: the best ROUGE-L F-measure against any reference (rouge-score, no stemming)."""
    return [_rouge_l(p, refs) for p, refs in zip(predictions, references, strict=True)]


def rouge_l(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Mean over examples of the best ROUGE-L F-measure against any reference (rouge-score, no stemming)."""
    return _mean(rouge_l_scores(predictions, references))


def bleu(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU (sacrebleu, 0-100) with every reference of each example."""
    import sacrebleu

    if not predictions:
        return float("nan")
    return float(sacrebleu.corpus_bleu(list(predictions), reference_streams(references)).score)


def sentence_bleu_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> list[float]:
    """Per example: sentence BLEU (sacrebleu defaults: exp smoothing, effective order; 0-100)."""
    import sacrebleu

    return [float(sacrebleu.sentence_bleu(p, list(refs)).score)
            for p, refs in zip(predictions, references, strict=True)]


def generation_metrics(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Every generation metric of one template; BLEU is corpus BLEU scaled to 0-1 like the others."""
    return {
        "exact_match": exact_match(predictions, references), "token_f1": token_f1(predictions, references),
        "rouge_l": rouge_l(predictions, references), "bleu": bleu(predictions, references) / 100,
    }


def classification_metrics(by_sum: Sequence[int], by_norm: Sequence[int], labels: Sequence[int]) -> dict[str, float]:
    return {"acc": accuracy(by_sum, labels), "acc_norm": accuracy(by_norm, labels),
            "macro_f1": macro_f1(by_sum, labels), "macro_f1_norm": macro_f1(by_norm, labels)}
