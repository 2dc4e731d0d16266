"""Paraphrase: do two sentences (or questions) say the same thing? (MRPC, QQP, PAWS, STS-B.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import F32, I32, I64, STR, Hub, Row, classify, feats, labels

CLUSTER = "paraphrase"
NO_YES = ("no", "yes")
SCORES = ("0", "1", "2", "3", "4", "5")


def same_meaning_templates(noun: str) -> list:
    """Two-text templates; ``noun`` is what the texts are ("sentences", "questions")."""
    one = noun[:-1]
    return [
        tpl("same_meaning", f"{one.capitalize()} 1: {{sentence1}}\n{one.capitalize()} 2: {{sentence2}}\n"
            f"Do the two {noun} mean the same thing?\n{{options}}"),
        tpl("paraphrase_of", 'Is "{sentence2}" a paraphrase of "{sentence1}"?\n{options}'),
        tpl("reworded", f"Here are two {noun}.\n{{sentence1}}\n{{sentence2}}\n"
            f"Is the second {one} just the first one said another way?\n{{options}}"),
        tpl("equivalent", f"Are these {noun} equivalent in meaning?\nA: {{sentence1}}\nB: {{sentence2}}\n{{options}}"),
        tpl("first_second", f"The first {one} is: {{sentence1}}\nThe second {one} is: {{sentence2}}\n"
            f"Would someone reading both say they express the same idea?\n{{options}}"),
        tpl("swap_test", "If I replaced \"{sentence1}\" with \"{sentence2}\", would the meaning stay the same?"
            "\n{options}"),
        tpl("which_option", f"{{sentence1}}\n{{sentence2}}\nWhich option says whether these two {noun} agree in "
            "meaning?\n{options}"),
        inv("write_pair", f"{one.capitalize()}: {{sentence1}}\nWrite another {one}; asked whether the two mean "
            f'the same, the answer should be "{{answer}}".', "{sentence2}"),
    ]


def qqp_row(row: Row) -> dict[str, Any]:
    return {"sentence1": row["question1"], "sentence2": row["question2"], "label": row["label"]}


def stsb_row(row: Row) -> dict[str, Any]:
    """STS-B scores (0 to 5, real-valued) rounded to the nearest whole point, as six options."""
    return {"sentence1": row["sentence1"], "sentence2": row["sentence2"], "label": round(float(row["label"]))}


def stsb_templates() -> list:
    return [
        tpl("rate_similarity", "Sentence 1: {sentence1}\nSentence 2: {sentence2}\n"
            "On a scale from 0 (unrelated) to 5 (same meaning), how similar are they?\n{options}"),
        tpl("score_pair", '"{sentence1}" and "{sentence2}"\nScore how close these two sentences are in meaning, '
            "0 to 5.\n{options}"),
        tpl("how_close", "How close in meaning are the following two sentences?\n{sentence1}\n{sentence2}\n"
            "Give a whole number from 0 to 5.\n{options}"),
        tpl("grade", "Grade the similarity of this pair, where 5 means they say exactly the same.\n"
            "A: {sentence1}\nB: {sentence2}\n{options}"),
        tpl("overlap", "First: {sentence1}\nSecond: {sentence2}\nHow much of the first sentence's meaning does "
            "the second keep? Answer 0 to 5.\n{options}"),
        tpl("which_score", "{sentence1}\n{sentence2}\nWhich of the options is the similarity score of these "
            "sentences?\n{options}"),
        inv("write_similar", 'Sentence: {sentence1}\nWrite a sentence whose similarity to it, from 0 to 5, is '
            "{answer}.", "{sentence2}"),
    ]


TASKS = [
    classify(
        "mrpc", CLUSTER, "MRPC", Hub("nyu-mll/glue", "mrpc"),
        feats(sentence1=STR, sentence2=STR, label=labels("not_equivalent", "equivalent"), idx=I32),
        ("sentence1", "sentence2"), same_meaning_templates("sentences"), options=NO_YES,
        description="Microsoft Research Paraphrase Corpus: news sentence pairs.",
    ),
    classify(
        "qqp", CLUSTER, "Quora Question Pairs", Hub("nyu-mll/glue", "qqp"),
        feats(question1=STR, question2=STR, label=labels("not_duplicate", "duplicate"), idx=I32),
        ("sentence1", "sentence2"), same_meaning_templates("questions"), options=NO_YES, preprocess=qqp_row,
        description="Do two Quora questions ask the same thing?",
    ),
    classify(
        "paws_wiki", CLUSTER, "PAWS", Hub("google-research-datasets/paws", "labeled_final"),
        feats(id=I32, sentence1=STR, sentence2=STR, label=labels("0", "1")),
        ("sentence1", "sentence2"), same_meaning_templates("sentences"), options=NO_YES,
        description="Paraphrase Adversaries from Word Scrambling: pairs with high word overlap.",
    ),
    classify(
        "stsb", CLUSTER, "STS-B", Hub("nyu-mll/glue", "stsb"),
        feats(sentence1=STR, sentence2=STR, label=F32, idx=I32),
        ("sentence1", "sentence2"), stsb_templates(), options=SCORES, preprocess=stsb_row,
        description="Semantic Textual Similarity Benchmark, scores rounded to 0-5.",
    ),
]

__all__ = ["I64", "TASKS"]
