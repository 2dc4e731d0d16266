"""Misc: small arithmetic and list operations over the world's words and numbers."""

from __future__ import annotations

import random
from typing import Any

from flanlab.tasks.declare import classification, generation, inv, tpl
from flanlab.tasks.suite.world import (
    COLOURS,
    OBJECTS,
    PEOPLE,
    PLACES,
    SuiteTask,
    place_at,
    plural,
)

CLUSTER = "misc"
_CATEGORIES: tuple[tuple[str, ...], ...] = (COLOURS, OBJECTS, PLACES, tuple(p.name for p in PEOPLE))
_ALL_WORDS = tuple(w for cat in _CATEGORIES for w in cat)


def _story_row(rng: random.Random, label: int) -> dict[str, Any]:
    p = rng.choice(PEOPLE)
    things = plural(rng.choice(OBJECTS))
    if rng.random() < 0.5:
        a = rng.randint(0, 10)
        b = rng.randint(1, 10)
        problem = f"{p.name} had {a} {things} and got {b} more. How many {things} now?"
        answer = a + b
    else:
        a = rng.randint(2, 20)
        b = rng.randint(1, a)
        problem = f"{p.name} had {a} {things} and lost {b}. How many {things} now?"
        answer = a - b
    return {"problem": problem, "target": str(answer)}


def _extreme_row(rng: random.Random, label: int) -> dict[str, Any]:
    numbers = rng.sample(range(21), rng.randint(3, 5))
    largest = rng.random() < 0.5
    return {
        "numbers": ", ".join(map(str, numbers)),
        "question": "Which number is the largest?" if largest else "Which number is the smallest?",
        "target": str(max(numbers) if largest else min(numbers)),
    }


def _contains_row(rng: random.Random, label: int) -> dict[str, Any]:
    items = rng.sample(_ALL_WORDS, rng.randint(3, 5) + (label == 1))
    word = rng.choice(items) if label == 0 else items.pop()
    return {"items": ", ".join(items), "word": word, "label": label}


def _odd_row(rng: random.Random, label: int) -> dict[str, Any]:
    main, odd_cat = rng.sample(_CATEGORIES, 2)
    odd = rng.choice(odd_cat)
    words = place_at(rng.sample(main, 3), odd, label, rng)
    return {"words": ", ".join(words), "choices": words, "label": label}


STORY = generation(
    "misc_word_problem", CLUSTER, "World Misc: word problems",
    ("problem",),
    [
        tpl("solve", "{problem}"),
        tpl("answer_number", "Answer with a number. {problem}"),
        tpl("math", "Solve this small math problem.\n{problem}"),
        tpl("question", "Question: {problem}\nAnswer:"),
        tpl("count", "Read the story and count.\n{problem}\nGive only the number."),
        inv("write", "Write a short story problem whose answer is {answer}.", "{problem}"),
    ],
    description="Solving a one-step addition or subtraction story with numbers up to 20, answered as a number.",
)

EXTREME = generation(
    "misc_list_extreme", CLUSTER, "World Misc: largest and smallest",
    ("numbers", "question"),
    [
        tpl("question", "Numbers: {numbers}\n{question}"),
        tpl("list", "Here is a list of numbers: {numbers}. {question}"),
        tpl("answer_number", "{question} Answer with a number from the list.\n{numbers}"),
        tpl("read", "Read the list and answer the question.\n{numbers}\n{question}"),
        tpl("pick", "{numbers}\n{question} Give only the number."),
        inv("write", "{question} The answer is {answer}. Write a list of numbers.", "{numbers}"),
    ],
    description="Naming the largest or the smallest number in a short list of numbers from 0 to 20.",
)

CONTAINS = classification(
    "misc_list_contains", CLUSTER, "World Misc: list membership",
    ("items", "word"),
    [
        tpl("in_list", "List: {items}\nIs {word} in the list? Answer yes or no.\n{options}"),
        tpl("appear", 'Does the word "{word}" appear in this list: {items}?\n{options}'),
        tpl("based_on", "{items}\nBased on the list above, can you find {word} in it?\n{options}"),
        tpl("check", "Check the list for a word. Word: {word}\nList: {items}\n{options}"),
        tpl("which_option", "Here is a list: {items}. Is {word} one of its words? Pick one of the options.\n{options}"),
        inv("write", "Write a list of words. Is {word} in it? {answer}.", "{items}"),
    ],
    options=("yes", "no"),
    description="Whether a word appears in a short comma-separated list, answered yes or no.",
)

ODD = classification(
    "misc_odd_one_out", CLUSTER, "World Misc: odd one out",
    ("words",),
    [
        tpl("odd", "{words}\nWhich word does not belong?\n{options}"),
        tpl("which_option", "Words: {words}\nWhich of the options is different from the others?\n{options}"),
        tpl("group", "Three of these words go together: {words}. Which one does not?\n{options}"),
        tpl("odd_one", "Find the odd one out in this list.\n{words}\n{options}"),
        tpl("kind", "Which word is not the same kind of thing as the rest? {words}\n{options}"),
        inv("write", "Write three words that go together and add {answer} as the odd one.", "{words}"),
    ],
    options_field="choices",
    description="Choosing the one word in a list of four that does not belong with the other three.",
)

TASKS = [
    SuiteTask(STORY, _story_row),
    SuiteTask(EXTREME, _extreme_row),
    SuiteTask(CONTAINS, _contains_row),
    SuiteTask(ODD, _odd_row, n_labels=4),
]
