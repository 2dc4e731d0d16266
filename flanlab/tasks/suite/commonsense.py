"""Commonsense: everyday knowledge about places, tools, causes and effects, and sizes."""

from __future__ import annotations

import random
from typing import Any

from flanlab.tasks.declare import classification, inv, tpl
from flanlab.tasks.suite.world import (
    COLOURS,
    PEOPLE,
    PLACES,
    SuiteTask,
    cap,
    other,
    place_at,
)

CLUSTER = "commonsense"

_ACTIVITY_PLACE = {
    "cook dinner": "kitchen", "borrow a book": "library", "buy bread": "shop", "plant flowers": "garden",
    "play football": "park", "learn to write": "school", "go to sleep": "bedroom", "go for a swim": "pool",
}
_CS_PLACES = tuple(sorted(set(_ACTIVITY_PLACE.values())))
_GOAL_OBJECT = {
    "open the door": "key", "drink some water": "cup", "carry the books": "bag", "see in the dark": "lamp",
    "play catch": "ball", "keep the sun off": "hat", "fly something in the wind": "kite", "read a story": "book",
    "store the toys": "box",
}
_TOOLS = tuple(sorted(set(_GOAL_OBJECT.values())))
# (cause, effect); {x} is the subject and {w} its "was"/"were". The premise names the person and the
# options use the pronoun, so the options never say who is meant on their own.
_CAUSE_EFFECT = (
    ("{x} {w} hungry.", "{x} ate some bread."),
    ("{x} {w} tired.", "{x} went to bed early."),
    ("{x} dropped a glass.", "The glass broke."),
    ("It started to rain.", "{x} opened an umbrella."),
    ("{x} lost the key.", "{x} could not open the door."),
    ("{x} {w} cold.", "{x} put on a coat."),
    ("{x} won the game.", "{x} {w} very happy."),
    ("{x} missed the bus.", "{x} {w} late for school."),
    ("{x} {w} thirsty.", "{x} drank some water."),
    ("{x} studied hard.", "{x} passed the test."),
    ("{x} told a funny joke.", "Everyone laughed."),
    ("The room was dark.", "{x} turned on the lamp."),
    ("{x} forgot the money.", "{x} could not buy lunch."),
    ("{x} fell off the bike.", "{x} hurt a knee."),
)
_SIZE = {"key": 1, "cup": 2, "shoe": 3, "book": 3, "hat": 3, "ball": 4, "lamp": 5, "bag": 6, "box": 6,
         "bed": 8, "car": 9, "house": 10}
_SIZED = tuple(_SIZE)


def _place_row(rng: random.Random, label: int) -> dict[str, Any]:
    p = rng.choice(PEOPLE)
    activity, place = rng.choice(tuple(_ACTIVITY_PLACE.items()))
    when = rng.choice(("", "Today ", "After school ", "In the evening "))
    situation = f"{when}{p.name} wants to {activity}."
    wrong = rng.sample([x for x in _CS_PLACES if x != place], 2)
    return {"situation": situation, "places": place_at(wrong, place, label, rng), "label": label}


def _tool_row(rng: random.Random, label: int) -> dict[str, Any]:
    p = rng.choice(PEOPLE)
    goal, tool = rng.choice(tuple(_GOAL_OBJECT.items()))
    where = rng.choice(PLACES)
    situation = f"{p.name} is in the {where} and wants to {goal}."
    wrong = rng.sample([x for x in _TOOLS if x != tool], 2)
    return {"situation": situation, "objects": place_at(wrong, tool, label, rng), "label": label}


def _plausible_row(rng: random.Random, label: int) -> dict[str, Any]:
    p = rng.choice(PEOPLE)
    named, pronoun = {"x": p.name, "w": "was"}, {"x": cap(p.subj), "w": p.was}
    i, j = rng.sample(range(len(_CAUSE_EFFECT)), 2)
    ask_effect = rng.random() < 0.5
    side = 1 if ask_effect else 0
    premise = _CAUSE_EFFECT[i][1 - side].format(**named)
    if p.name not in premise:  # e.g. "It started to rain.": name the person in the options instead
        pronoun = named
    right = _CAUSE_EFFECT[i][side].format(**pronoun)
    wrong = _CAUSE_EFFECT[j][side].format(**pronoun)
    question = "What happened as a result?" if ask_effect else "What was the cause?"
    return {"premise": premise, "question": question, "choices": place_at([wrong], right, label, rng), "label": label}


def _size_row(rng: random.Random, label: int) -> dict[str, Any]:
    while True:
        x, y = rng.sample(_SIZED, 2)
        if abs(_SIZE[x] - _SIZE[y]) >= 2:
            break
    small, large = (x, y) if _SIZE[x] < _SIZE[y] else (y, x)
    inner, outer = (small, large) if label == 0 else (large, small)
    p = rng.choice(PEOPLE)
    situation = f"{p.name} tries to put a {rng.choice(COLOURS)} {inner} inside a {other(rng, COLOURS)} {outer}."
    return {"situation": situation, "label": label}


PLACE = classification(
    "commonsense_place", CLUSTER, "World Commonsense: places",
    ("situation",),
    [
        tpl("where", "{situation}\nWhere should they go?\n{options}"),
        tpl("which_option", "{situation} Which of the options is the best place for that?\n{options}"),
        tpl("best_place", "Situation: {situation}\nPick the place that makes the most sense.\n{options}"),
        tpl("common_sense", "Use common sense. {situation}\nWhere will this happen?\n{options}"),
        tpl("go_to", "Read the sentence and choose where to go.\n{situation}\n{options}"),
        inv("write", "Write a sentence about someone who should go to the {answer}.", "{situation}"),
    ],
    options_field="places",
    description="Choosing the place where a person should go to do an everyday activity.",
)

TOOL = classification(
    "commonsense_tool", CLUSTER, "World Commonsense: tools",
    ("situation",),
    [
        tpl("what_use", "{situation}\nWhat should they use?\n{options}"),
        tpl("which_option", "{situation} Which of the options will help most?\n{options}"),
        tpl("need", "Situation: {situation}\nWhat does the person need?\n{options}"),
        tpl("common_sense", "Use common sense to pick the right thing. {situation}\n{options}"),
        tpl("object", "Read the sentence and choose an object for the job.\n{situation}\n{options}"),
        inv("write", "Write a sentence about someone who needs a {answer}.", "{situation}"),
    ],
    options_field="objects",
    description="Choosing the everyday object a person needs for a goal.",
)

PLAUSIBLE = classification(
    "commonsense_cause_effect", CLUSTER, "World Commonsense: cause and effect",
    ("premise", "question"),
    [
        tpl("question", "{premise}\n{question}\n{options}"),
        tpl("which_option", "Event: {premise}\n{question} Which of the options is more likely?\n{options}"),
        tpl("common_sense", "Use common sense. {premise} {question}\n{options}"),
        tpl("pick", "Read the sentence and answer the question.\n{premise}\nQuestion: {question}\n{options}"),
        tpl("likely", "{question} Pick the option that makes more sense.\n{premise}\n{options}"),
        inv("write", "{question} Answer: {answer} Write the event.", "{premise}"),
    ],
    options_field="choices",
    description="Choosing the more plausible of two sentences as the cause or the effect of an event.",
)

SIZE = classification(
    "commonsense_size", CLUSTER, "World Commonsense: sizes",
    ("situation",),
    [
        tpl("fit", "{situation}\nWill it fit? Answer yes or no.\n{options}"),
        tpl("possible", "Situation: {situation}\nIs this possible?\n{options}"),
        tpl("common_sense", "Use common sense. {situation} Can it be done?\n{options}"),
        tpl("which_option", "{situation}\nWhich of the options is right: will the first thing go inside?\n{options}"),
        tpl("small_enough", "Read the sentence. {situation}\nIs the first object small enough?\n{options}"),
        inv("write", "Write a sentence about putting one thing inside another; does it fit? {answer}.",
            "{situation}"),
    ],
    options=("yes", "no"),
    description="Whether one everyday object fits inside another, answered yes or no.",
)

TASKS = [
    SuiteTask(PLACE, _place_row, n_labels=3),
    SuiteTask(TOOL, _tool_row, n_labels=3),
    SuiteTask(PLAUSIBLE, _plausible_row, n_labels=2),
    SuiteTask(SIZE, _size_row),
]
