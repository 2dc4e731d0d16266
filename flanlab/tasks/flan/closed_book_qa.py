"""Closed-book QA: answer from world knowledge, no passage. (ARC easy/challenge, NQ, TriviaQA, WebQuestions.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import STR, STRS, Hub, Row, classify, feats, generate, lettered

CLUSTER = "closed_book_qa"


def open_templates(thing: str) -> list:
    """Free-text answer to a ``question``; ``thing`` says what kind of question it is."""
    return [
        tpl("answer", "Reply briefly to this: {question}"),
        tpl("q_a", "Q: {question}\nA:"),
        tpl("knowledge", f"Use your general knowledge to answer this {thing}.\n{{question}}"),
        tpl("short", "{question}\nGive a short answer."),
        tpl("what_is", "What is the answer to the following?\n{question}"),
        tpl("quiz", "Quiz time! {question}"),
        tpl("reply", "Someone asks you: {question}\nWhat do you reply?"),
        inv("write_question", f"Write a {thing} whose answer is {{answer}}.", "{question}"),
    ]


def arc_templates() -> list:
    return [
        tpl("question_options", "{question}\n{options}"),
        tpl("pick", "Pick the correct answer to this science question.\n{question}\n{options}"),
        tpl("exam", "This question comes from a grade-school science exam.\n{question}\n{options}"),
        tpl("which", "Question: {question}\nWhich of the options is correct?\n{options}"),
        tpl("know", "Answer from what you know about science.\n{question}\n{options}"),
        tpl("q_a", "Q: {question}\nChoose one of these.\n{options}"),
        tpl("best", "{question}\nWhat is the best answer?\n{options}"),
        inv("write_question", "Write a science exam question whose correct answer is: {answer}", "{question}"),
    ]


def arc_row(row: Row) -> dict[str, Any]:
    options, label = lettered(row["choices"]["text"], row["choices"]["label"], row["answerKey"])
    return {"question": row["question"], "candidates": options, "label": label}


def trivia_row(row: Row) -> dict[str, Any]:
    """TriviaQA: the canonical answer first, then its aliases (all accepted)."""
    answer = row["answer"]
    return {"question": row["question"], "answers": list(dict.fromkeys([answer["value"], *answer["aliases"]]))}


def web_questions_row(row: Row) -> dict[str, Any]:
    return {"question": row["question"], "answers": list(row["answers"])}


def nq_row(row: Row) -> dict[str, Any]:
    return {"question": row["question"], "answers": list(row["answer"])}


ARC_FEATURES = feats(id=STR, question=STR, choices={"text": STRS, "label": STRS}, answerKey=STR)

TASKS = [
    classify(
        "arc_easy", CLUSTER, "ARC Easy", Hub("allenai/ai2_arc", "ARC-Easy"), ARC_FEATURES,
        ("question",), arc_templates(), options_field="candidates", preprocess=arc_row,
        description="AI2 Reasoning Challenge, easy set: grade-school science multiple choice.",
    ),
    classify(
        "arc_challenge", CLUSTER, "ARC Challenge", Hub("allenai/ai2_arc", "ARC-Challenge"), ARC_FEATURES,
        ("question",), arc_templates(), options_field="candidates", preprocess=arc_row,
        description="AI2 Reasoning Challenge, challenge set: questions that retrieval baselines miss.",
    ),
    generate(
        "nq_open", CLUSTER, "Natural Questions (open)", Hub("google-research-datasets/nq_open", "nq_open"),
        feats(question=STR, answer=STRS),
        ("question",), open_templates("search question"), target_field="answers", preprocess=nq_row,
        description="Real Google search questions with short answers, no passage given.",
    ),
    generate(
        "trivia_qa", CLUSTER, "TriviaQA", Hub("mandarjoshi/trivia_qa", "rc.nocontext"),
        feats(question=STR, question_id=STR, question_source=STR,
              answer={"aliases": STRS, "normalized_aliases": STRS, "matched_wiki_entity_name": STR,
                      "normalized_matched_wiki_entity_name": STR, "normalized_value": STR, "type": STR,
                      "value": STR}),
        ("question",), open_templates("trivia question"), target_field="answers", preprocess=trivia_row,
        description="Trivia questions written by enthusiasts, answered without evidence documents.",
    ),
    generate(
        "web_questions", CLUSTER, "WebQuestions", Hub("stanfordnlp/web_questions"),
        feats(url=STR, question=STR, answers=STRS),
        ("question",), open_templates("question about a famous entity"), target_field="answers",
        preprocess=web_questions_row, eval="test",
        description="Google Suggest questions answerable from Freebase.",
    ),
]
