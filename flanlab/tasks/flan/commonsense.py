"""Commonsense: pick the plausible cause, effect, ending or solution. (COPA, HellaSwag, PIQA, CODAH.)"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.declare import inv, tpl
from flanlab.tasks.flan.build import I32, PARQUET_BRANCH, STR, STRS, Hub, Row, classify, feats, labels

CLUSTER = "commonsense"


def copa_templates() -> list:
    return [
        tpl("what_relation", "{premise}\nWhat is the most likely {relation} of this?\n{options}"),
        tpl("premise_relation", "Premise: {premise}\nWhich option is the more plausible {relation}?\n{options}"),
        tpl("pick_one", 'Here is an event: "{premise}"\nChoose its {relation} from the options.\n{options}'),
        tpl("reasoning", "Think about everyday life. {premise} Which is the better {relation}?\n{options}"),
        tpl("alternatives", "Of the two alternatives, which is the {relation} of the situation below?\n{premise}\n"
            "{options}"),
        tpl("story", "Situation: {premise}\nWe want its {relation}. Which option fits?\n{options}"),
        tpl("sensible", "{premise} Which of the options makes more sense as the {relation}?\n{options}"),
        inv("write_premise", "Write a situation whose {relation} is: {answer}", "{premise}"),
    ]


def ending_templates(thing: str) -> list:
    """Continuation templates over ``context`` and per-row ``candidates``; ``thing`` names the context."""
    return [
        tpl("best_ending", f"{{context}}\nWhat is the most sensible way to continue this {thing}?\n{{options}}"),
        tpl("what_next", f"{thing.capitalize()}: {{context}}\nWhat comes after this?\n{{options}}"),
        tpl("complete", f"Complete the {thing} with the most plausible option.\n{{context}}\n{{options}}"),
        tpl("continue", "Continue the text: {context}\n{options}"),
        tpl("likely", f"{{context}}\nWhich option is the likeliest continuation of the {thing}?\n{{options}}"),
        tpl("choose", f"Choose how the {thing} goes on, using common sense.\n{{context}}\n{{options}}"),
        tpl("reader", "A reader sees: {context}\nWhich ending would they expect?\n{options}"),
        inv("write_context", "Write the beginning of a text that could sensibly end with: {answer}", "{context}"),
    ]


def goal_templates() -> list:
    return [
        tpl("how_to", "Goal: {goal}\nWhich way of doing it works better?\n{options}"),
        tpl("achieve", 'What is the best way to do this: "{goal}"?\n{options}'),
        tpl("solution", "{goal}\nPick the more sensible solution.\n{options}"),
        tpl("practical", "Use practical knowledge of the physical world. To reach this goal: {goal}\n"
            "which method should you use?\n{options}"),
        tpl("which_works", "Which of the options achieves the goal below?\n{goal}\n{options}"),
        tpl("advice", "A friend wants to do this: {goal}\nWhat should they do?\n{options}"),
        tpl("method", "Task: {goal}\nChoose the method that will actually work.\n{options}"),
        inv("write_goal", "Write a goal that this method achieves: {answer}", "{goal}"),
    ]


def copa_row(row: Row) -> dict[str, Any]:
    return {"premise": row["premise"], "relation": str(row["question"]), "candidates": [row["choice1"], row["choice2"]],
            "label": row["label"]}


def hellaswag_row(row: Row) -> dict[str, Any]:
    """HellaSwag labels are strings ('' on the hidden test split, dropped)."""
    label = str(row["label"])
    return {"context": row["ctx"], "candidates": list(row["endings"]), "label": int(label) if label.isdigit() else -1}


def piqa_row(row: Row) -> dict[str, Any]:
    return {"goal": row["goal"], "candidates": [row["sol1"], row["sol2"]], "label": row["label"]}


def codah_row(row: Row) -> dict[str, Any]:
    return {"context": row["question_propmt"], "candidates": list(row["candidate_answers"]),
            "label": row["correct_answer_idx"]}


TASKS = [
    classify(
        "copa", CLUSTER, "COPA", Hub("aps/super_glue", "copa"),
        feats(premise=STR, choice1=STR, choice2=STR, question=STR, idx=I32, label=labels("choice1", "choice2")),
        ("premise", "relation"), copa_templates(), options_field="candidates", preprocess=copa_row,
        description="Choice of Plausible Alternatives: the more likely cause or effect of a premise.",
    ),
    classify(
        "hellaswag", CLUSTER, "HellaSwag", Hub("Rowan/hellaswag"),
        feats(ind=I32, activity_label=STR, ctx_a=STR, ctx_b=STR, ctx=STR, endings=STRS, source_id=STR, split=STR,
              split_type=STR, label=STR),
        ("context",), ending_templates("scene"), options_field="candidates", preprocess=hellaswag_row,
        description="Which of four endings continues a video caption or how-to text? (adversarially filtered)",
    ),
    classify(
        "piqa", CLUSTER, "PIQA", Hub("ybisk/piqa", revision=PARQUET_BRANCH),
        feats(goal=STR, sol1=STR, sol2=STR, label=labels("0", "1")),
        ("goal",), goal_templates(), options_field="candidates", preprocess=piqa_row,
        description="Physical Interaction QA: which of two solutions reaches a goal.",
    ),
    classify(
        "codah", CLUSTER, "CODAH", Hub("jaredfern/codah", "codah"),
        feats(id=I32, question_category=labels("Idioms", "Reference", "Polysemy", "Negation", "Quantitative", "Others"),
              question_propmt=STR, candidate_answers=STRS, correct_answer_idx=I32),
        ("context",), ending_templates("sentence"), options_field="candidates", preprocess=codah_row,
        train="train[:85%]", eval="train[85%:]",
        description="COmmonsense Dataset Adversarially-authored by Humans (one split: the last 15% scores).",
    ),
]
