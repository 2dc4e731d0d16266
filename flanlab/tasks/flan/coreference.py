"""Coreference: which person or thing does a pronoun (or a blank) stand for? (WSC273, DPR, Winogrande, GAP.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import BOOL, I32, STR, STRS, Hub, Row, classify, feats, labels

CLUSTER = "coreference"


def pronoun_templates() -> list:
    """Templates over ``text``, ``pronoun`` and per-row ``candidates``."""
    return [
        tpl("refers_to", '{text}\n\nIn the passage above, who or what does "{pronoun}" refer to?\n{options}'),
        tpl("who_is", 'Text: {text}\nPronoun: "{pronoun}"\nWhich of the options does the pronoun stand for?'
            "\n{options}"),
        tpl("resolve", 'Resolve the pronoun "{pronoun}" in this text.\n{text}\n{options}'),
        tpl("replace", '{text}\nIf we replaced "{pronoun}" with a name, which one keeps the meaning?\n{options}'),
        tpl("means", 'Read: {text}\nHere, "{pronoun}" means which of these?\n{options}'),
        tpl("antecedent", 'What is the antecedent of "{pronoun}" in the following text?\n{text}\n{options}'),
        tpl("reader", '{text}\nA careful reader knows who "{pronoun}" is. Who is it?\n{options}'),
        inv("name_pronoun", 'Text: {text}\nWhich word in the text refers to "{answer}"? Give the pronoun.',
            "{pronoun}"),
    ]


def blank_templates() -> list:
    """Winogrande: a sentence with a ``_`` blank and two fillers."""
    return [
        tpl("fill_blank", "{text}\nWhat should fill the blank (_)?\n{options}"),
        tpl("which_fits", "Which option fits the blank in this sentence best?\n{text}\n{options}"),
        tpl("complete", 'Complete the sentence by replacing "_": {text}\n{options}'),
        tpl("missing", "Sentence with a missing word: {text}\nWho or what is missing?\n{options}"),
        tpl("sensible", "{text}\nPick the filler for _ that makes the sentence make sense.\n{options}"),
        tpl("blank_means", "In the sentence below, the blank stands for one of two things.\n{text}\n{options}"),
        tpl("read_choose", "Read the sentence and choose what goes in the gap.\nSentence: {text}\n{options}"),
        inv("write_sentence", "Write a sentence with a blank (_) that should be filled with {answer}.", "{text}"),
    ]


def wsc273_row(row: Row) -> dict[str, Any]:
    return {"text": row["text"], "pronoun": row["pronoun"], "candidates": list(row["options"]), "label": row["label"]}


def dpr_row(row: Row) -> dict[str, Any]:
    return {"text": row["sentence"], "pronoun": row["pronoun"], "candidates": list(row["candidates"]),
            "label": row["label"]}


def winogrande_row(row: Row) -> dict[str, Any]:
    """The answer is the string '1' or '2' ('' on the hidden test split, dropped)."""
    label = {"1": 0, "2": 1}.get(str(row["answer"]), -1)
    return {"text": row["sentence"], "candidates": [row["option1"], row["option2"]], "label": label}


def gap_row(row: Row) -> dict[str, Any]:
    """GAP: the pronoun refers to name A, name B, or neither."""
    label = 0 if row["A-coref"] else 1 if row["B-coref"] else 2
    return {"text": row["Text"], "pronoun": row["Pronoun"], "candidates": [row["A"], row["B"], "neither"],
            "label": label}


TASKS = [
    classify(
        "wsc273", CLUSTER, "Winograd Schema Challenge", Hub("lighteval/winograd_wsc", "wsc273"),
        feats(text=STR, pronoun=STR, pronoun_loc=I32, quote=STR, quote_loc=I32, options=STRS,
              label=labels("0", "1"), source=STR),
        ("text", "pronoun"), pronoun_templates(), options_field="candidates", preprocess=wsc273_row,
        train="test[:50%]", eval="test[50%:]",
        description="The 273 classic Winograd schemas (only a test split exists: halves train and score).",
    ),
    classify(
        "dpr", CLUSTER, "Definite Pronoun Resolution",
        Hub("community-datasets/definite_pronoun_resolution", "plain_text"),
        feats(sentence=STR, pronoun=STR, candidates=STRS, label=labels("0", "1")),
        ("text", "pronoun"), pronoun_templates(), options_field="candidates", preprocess=dpr_row, eval="test",
        description="Winograd-style sentence pairs written by students (Rahman and Ng).",
    ),
    classify(
        "winogrande", CLUSTER, "WinoGrande", Hub("allenai/winogrande", "winogrande_xl"),
        feats(sentence=STR, option1=STR, option2=STR, answer=STR),
        ("text",), blank_templates(), options_field="candidates", preprocess=winogrande_row,
        description="Large adversarial Winograd-style fill-in-the-blank problems.",
    ),
    classify(
        "gap", CLUSTER, "GAP", Hub("coref-data/gap_raw"),
        feats(**{"ID": STR, "Text": STR, "Pronoun": STR, "Pronoun-offset": I32, "A": STR, "A-offset": I32,
                 "A-coref": BOOL, "B": STR, "B-offset": I32, "B-coref": BOOL, "URL": STR}),
        ("text", "pronoun"), pronoun_templates(), options_field="candidates", preprocess=gap_row,
        description="Gendered ambiguous pronouns in Wikipedia text: name A, name B or neither.",
    ),
]
