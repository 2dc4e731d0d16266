"""Reading comprehension: answer from a passage. (BoolQ, DROP, MultiRC, OpenBookQA, SQuAD v1 and v2.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import I32, INTS, STR, STRS, Hub, Row, classify, feats, generate, labels, lettered

CLUSTER = "reading_comprehension"
NO_YES = ("no", "yes")
UNANSWERABLE = "unanswerable"


def extractive_templates(thing: str, extra: str = "") -> list:
    """Templates over ``context`` and ``question``; the answer is free text (a span, a number...)."""
    return [
        tpl("read_answer", f"Read the {thing} and answer the question.\n\n{{context}}\n\n"
            f"Question: {{question}}{extra}"),
        tpl("context_question", f"{thing.capitalize()}: {{context}}\nQuestion: {{question}}\nAnswer:{extra}"),
        tpl("question_first", f"{{question}}\nAnswer using this {thing}:\n{{context}}{extra}"),
        tpl("from_text", f"{{context}}\n\nFrom the {thing} above, {{question}}{extra}"),
        tpl("find", f"Find the answer to \"{{question}}\" in the following {thing}.\n{{context}}{extra}"),
        tpl("short_answer", f"{{context}}\nGive a short answer: {{question}}{extra}"),
        tpl("look_up", f"Question: {{question}}\nLook it up in the {thing} below and reply briefly.\n"
            f"{{context}}{extra}"),
        inv("write_question", f"{thing.capitalize()}: {{context}}\nWrite a question about the {thing} whose answer "
            "is: {answer}", "{question}"),
    ]


def yes_no_templates(thing: str) -> list:
    """BoolQ: a yes/no ``question`` over a ``context``."""
    return [
        tpl("read_answer", f"{{context}}\n\nBased on the {thing} above, {{question}}?\n{{options}}"),
        tpl("context_question", f"{thing.capitalize()}: {{context}}\nQuestion: {{question}}?\n{{options}}"),
        tpl("true_or_not", f"Read the {thing}: {{context}}\nIs the answer to \"{{question}}\" yes or no?\n{{options}}"),
        tpl("question_first", f"{{question}}?\nAnswer yes or no, using this {thing}:\n{{context}}\n{{options}}"),
        tpl("does_it_say", f"{{context}}\nDoes the {thing} say yes to this: {{question}}?\n{{options}}"),
        tpl("check", f"Check the {thing} to answer the question.\n{{context}}\n{{question}}?\n{{options}}"),
        tpl("which_option", "{context}\nQuestion: {question}?\nWhich option is right?\n{options}"),
        inv("write_question", f"{thing.capitalize()}: {{context}}\nWrite a yes-or-no question about it whose "
            "answer is {answer}.", "{question}"),
    ]


def multirc_templates() -> list:
    return [
        tpl("is_correct", "{context}\n\nQuestion: {question}\nProposed answer: {answer_text}\n"
            "Is the proposed answer correct?\n{options}"),
        tpl("check_answer", "Read the paragraph and check the answer.\n{context}\n{question}\n"
            "Answer given: {answer_text}\n{options}"),
        tpl("true_answer", '{context}\nIs "{answer_text}" a true answer to "{question}"?\n{options}'),
        tpl("grade", "Paragraph: {context}\nQ: {question}\nA: {answer_text}\nWould a teacher mark this answer "
            "right?\n{options}"),
        tpl("student", "A student read this: {context}\nAsked {question}, they answered {answer_text}. "
            "Are they right?\n{options}"),
        tpl("valid", "Based on the paragraph, is the following a valid answer?\n{context}\n"
            "Question: {question}\nAnswer: {answer_text}\n{options}"),
        tpl("which_option", "{context}\n{question}\nCandidate: {answer_text}\nWhich option says whether the "
            "candidate is supported?\n{options}"),
        inv("write_answer", "Paragraph: {context}\nQuestion: {question}\nWrite an answer to the question that is "
            'judged "{answer}" for correctness.', "{answer_text}"),
    ]


def choice_templates(thing: str) -> list:
    """Multiple choice over a ``question`` and per-row ``candidates`` (no passage given)."""
    return [
        tpl("question_options", "{question}\n{options}"),
        tpl("pick", f"Pick the right answer to this {thing}.\n{{question}}\n{{options}}"),
        tpl("which", f"{thing.capitalize()}: {{question}}\nWhich of the options is correct?\n{{options}}"),
        tpl("complete", "Complete this statement with the right option: {question}\n{options}"),
        tpl("know", f"Use what you know about science to answer the {thing}.\n{{question}}\n{{options}}"),
        tpl("answer_is", "Q: {question}\nThe answer is one of these.\n{options}"),
        tpl("best", "{question}\nChoose the best option.\n{options}"),
        inv("write_question", f"Write a {thing} whose correct answer is: {{answer}}", "{question}"),
    ]


def squad_row(row: Row) -> dict[str, Any]:
    return {"context": row["context"], "question": row["question"],
            "answers": [a.strip() for a in row["answers"]["text"]]}


def squad_v2_row(row: Row) -> dict[str, Any]:
    """SQuAD 2.0: a question with no answer in the passage has the target 'unanswerable'."""
    return {"context": row["context"], "question": row["question"],
            "answers": [a.strip() for a in row["answers"]["text"]] or [UNANSWERABLE]}


def drop_row(row: Row) -> dict[str, Any]:
    return {"context": row["passage"], "question": row["question"], "answers": list(row["answers_spans"]["spans"])}


def boolq_row(row: Row) -> dict[str, Any]:
    return {"context": row["passage"], "question": row["question"].rstrip("?"), "label": row["label"]}


def multirc_row(row: Row) -> dict[str, Any]:
    return {"context": row["paragraph"], "question": row["question"], "answer_text": row["answer"],
            "label": row["label"]}


def openbookqa_row(row: Row) -> dict[str, Any]:
    options, label = lettered(row["choices"]["text"], row["choices"]["label"], row["answerKey"])
    return {"question": row["question_stem"], "candidates": options, "label": label}


SQUAD_FEATURES = feats(id=STR, title=STR, context=STR, question=STR, answers={"text": STRS, "answer_start": INTS})

TASKS = [
    classify(
        "boolq", CLUSTER, "BoolQ", Hub("aps/super_glue", "boolq"),
        feats(question=STR, passage=STR, idx=I32, label=labels("False", "True")),
        ("context", "question"), yes_no_templates("passage"), options=NO_YES, preprocess=boolq_row,
        description="Naturally occurring yes/no questions answered from a Wikipedia passage.",
    ),
    generate(
        "drop", CLUSTER, "DROP", Hub("ucinlp/drop"),
        feats(section_id=STR, query_id=STR, passage=STR, question=STR, answers_spans={"spans": STRS, "types": STRS}),
        ("context", "question"), extractive_templates("passage"), target_field="answers", preprocess=drop_row,
        description="Discrete reasoning over paragraphs: counting, sorting and arithmetic over a passage.",
    ),
    classify(
        "multirc", CLUSTER, "MultiRC", Hub("aps/super_glue", "multirc"),
        feats(paragraph=STR, question=STR, answer=STR, idx={"paragraph": I32, "question": I32, "answer": I32},
              label=labels("False", "True")),
        ("context", "question", "answer_text"), multirc_templates(), options=NO_YES, preprocess=multirc_row,
        description="Multi-sentence reading comprehension: is a candidate answer correct?",
    ),
    classify(
        "openbookqa", CLUSTER, "OpenBookQA", Hub("allenai/openbookqa", "main"),
        feats(id=STR, question_stem=STR, choices={"text": STRS, "label": STRS}, answerKey=STR),
        ("question",), choice_templates("science question"), options_field="candidates", preprocess=openbookqa_row,
        description="Elementary science questions that need a core fact plus common knowledge.",
    ),
    generate(
        "squad_v1", CLUSTER, "SQuAD v1.1", Hub("rajpurkar/squad", "plain_text"), SQUAD_FEATURES,
        ("context", "question"), extractive_templates("article"), target_field="answers", preprocess=squad_row,
        description="Stanford Question Answering Dataset: answer spans in Wikipedia paragraphs.",
    ),
    generate(
        "squad_v2", CLUSTER, "SQuAD v2.0", Hub("rajpurkar/squad_v2", "squad_v2"), SQUAD_FEATURES,
        ("context", "question"), extractive_templates("article", f' If it cannot be answered, say "{UNANSWERABLE}".'),
        target_field="answers", preprocess=squad_v2_row,
        description="SQuAD with unanswerable questions (target 'unanswerable').",
    ),
]
