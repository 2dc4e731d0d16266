"""Classification and generation metrics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from flanlab.metrics.functions import (
    bleu,
    classification_metrics,
    exact_match,
    generation_metrics,
    macro_f1,
    rank_options,
    rouge_l,
    rouge_l_scores,
    sentence_bleu_scores,
    token_f1,
    token_f1_scores,
)


def test_rank_options_sum_vs_length_normalised():
    scores, options = [-6.0, -4.0], ["a long option", "no"]
    assert rank_options(scores, options) == 1                      # summed: -4 beats -6
    assert rank_options(scores, options, length_normalize=True) == 0  # per char: -6/13 beats -4/2
    with pytest.raises(ValueError, match="2 scores for 3 options"):
        rank_options(scores, [*options, "x"])


def test_macro_f1_differs_from_accuracy_on_imbalanced_labels():
    labels, always_zero = [0, 0, 0, 1], [0, 0, 0, 0]
    # class 0: P=3/4 R=1 F1=6/7; class 1: F1=0 -> macro 3/7
    assert macro_f1(always_zero, labels) == pytest.approx(3 / 7)
    got = classification_metrics(always_zero, [1, 0, 0, 1], labels)
    assert got["acc"] == 0.75 and got["acc_norm"] == 0.75 and got["macro_f1_norm"] == pytest.approx(0.7333, abs=1e-3)


def test_generation_metrics():
    preds, refs = ["The red box.", "blue cat"], [["red box"], ["a green cat", "blue dog"]]
    assert exact_match(preds, refs) == 0.5
    # second: vs "green cat" F1 = 0.5, vs "blue dog" F1 = 0.5
    assert token_f1(preds, refs) == pytest.approx(0.75)
    # ROUGE-L on raw lower-cased tokens: "the red box" vs "red box" -> P=2/3, R=1, F=0.8
    assert rouge_l(preds, refs) == pytest.approx((0.8 + 0.5) / 2)
    assert bleu(["the cat sat on the mat"], [["the cat sat on the mat"]]) == pytest.approx(100.0)
    assert bleu(["a b c d"], [["w x y z"]]) == pytest.approx(0.0)
    assert math.isnan(exact_match([], []))


def test_per_example_scores_match_rouge_score_and_sacrebleu():
    import sacrebleu
    from rouge_score.rouge_scorer import RougeScorer

    preds, refs = ["the cat sat on a mat", "blue cat"], [["the cat sat on the mat"], ["a green cat", "blue dog"]]
    direct = RougeScorer(["rougeL"]).score("the cat sat on the mat", "the cat sat on a mat")["rougeL"].fmeasure
    assert rouge_l_scores(preds, refs)[0] == pytest.approx(direct) == pytest.approx(5 / 6)
    assert rouge_l(preds, refs) == pytest.approx(sum(rouge_l_scores(preds, refs)) / 2)
    assert sentence_bleu_scores(preds, refs) == pytest.approx([sacrebleu.sentence_bleu(p, r).score
                                                              for p, r in zip(preds, refs, strict=True)])
    assert token_f1_scores(preds, refs)[1] == pytest.approx(0.5)
    scaled = generation_metrics(preds, refs)["bleu"]
    assert scaled == pytest.approx(bleu(preds, refs) / 100) and 0 <= scaled <= 1  # 0-1, like the other metrics
