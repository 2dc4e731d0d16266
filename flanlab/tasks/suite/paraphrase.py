"""Paraphrase: do two sentences say the same thing (synonyms, reordering, passive voice)?"""

from __future__ import annotations

import random
from typing import Any

from flanlab.tasks.declare import classification, inv, tpl
from flanlab.tasks.suite.world import (
    COLOURS,
    OBJECTS,
    PEOPLE,
    PLACES,
    SIZE_SYNONYMS,
    VERB_SYNONYMS,
    SuiteTask,
    other,
    place_at,
)

CLUSTER = "paraphrase"
YES_NO = ("yes", "no")
_VERBS = tuple(VERB_SYNONYMS)
_OPPOSITE_SIZE = {"big": "small", "small": "big"}
_PARTICIPLE = {"took": "taken", "saw": "seen"}


def _synonym_case(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """A sentence, its rewrites (synonyms, passive voice), and near-misses that change one fact the same way."""
    p = rng.choice(PEOPLE)
    verb, size, colour, obj = rng.choice(_VERBS), rng.choice(("big", "small")), rng.choice(COLOURS), rng.choice(OBJECTS)
    s1 = f"{p.name} {verb} a {size} {colour} {obj}."

    def say(name: str, v: str, sz: str, c: str, o: str) -> str:
        mode = rng.randrange(3)
        if mode != 1:
            v = VERB_SYNONYMS.get(v, v)
        if mode != 0:
            sz = SIZE_SYNONYMS.get(sz, sz)
        if rng.random() < 0.3:
            return f"A {sz} {c} {o} was {_PARTICIPLE.get(v, v)} by {name}."
        return f"{name} {v} a {sz} {c} {o}."

    same = [say(p.name, verb, size, colour, obj)]
    diff = [
        say(other(rng, PEOPLE, p).name, verb, size, colour, obj),
        say(p.name, other(rng, _VERBS, verb), size, colour, obj),
        say(p.name, verb, _OPPOSITE_SIZE[size], colour, obj),
        say(p.name, verb, size, other(rng, COLOURS, colour), obj),
        say(p.name, verb, size, colour, other(rng, OBJECTS, obj)),
    ]
    return s1, same, diff


def _relation_case(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """A relation between two people, its reorderings, and role-swapped or altered versions."""
    a, b = rng.sample(PEOPLE, 2)
    c = other(rng, PEOPLE, a, b)
    obj = rng.choice(OBJECTS)
    kind = rng.randrange(4)
    if kind == 0:
        s1 = f"{a.name} gave the {obj} to {b.name}."
        same = [f"{b.name} was given the {obj} by {a.name}.", f"{b.name} got the {obj} from {a.name}."]
        diff = [f"{a.name} was given the {obj} by {b.name}.", f"{a.name} got the {obj} from {b.name}.",
                f"{c.name} got the {obj} from {a.name}."]
    elif kind == 1:
        tall, short = rng.choice((("taller", "shorter"), ("older", "younger"), ("faster", "slower")))
        s1 = f"{a.name} is {tall} than {b.name}."
        same = [f"{b.name} is {short} than {a.name}."]
        diff = [f"{b.name} is {tall} than {a.name}.", f"{a.name} is {short} than {b.name}.",
                f"{c.name} is {short} than {a.name}."]
    elif kind == 2:
        verb = rng.choice(("ate", "left", "sang", "arrived", "woke up"))
        s1 = f"{a.name} {verb} before {b.name}."
        same = [f"{b.name} {verb} after {a.name}."]
        diff = [f"{b.name} {verb} before {a.name}.", f"{a.name} {verb} after {b.name}.",
                f"{c.name} {verb} after {a.name}."]
    else:
        place = rng.choice(PLACES)
        s1 = f"{a.name} and {b.name} went to the {place}."
        same = [f"{b.name} and {a.name} went to the {place}."]
        diff = [f"{a.name} and {c.name} went to the {place}.", f"{b.name} and {a.name} went to the "
                f"{other(rng, PLACES, place)}.", f"{c.name} and {b.name} went to the {place}."]
    return s1, same, diff


def _synonym_row(rng: random.Random, label: int) -> dict[str, Any]:
    s1, same, diff = _synonym_case(rng)
    return {"sentence1": s1, "sentence2": rng.choice(same if label == 0 else diff), "label": label}


def _reorder_row(rng: random.Random, label: int) -> dict[str, Any]:
    s1, same, diff = _relation_case(rng)
    return {"sentence1": s1, "sentence2": rng.choice(same if label == 0 else diff), "label": label}


def _pick_row(rng: random.Random, label: int) -> dict[str, Any]:
    s1, same, diff = (_synonym_case if rng.random() < 0.5 else _relation_case)(rng)
    choices = place_at(rng.sample(diff, 2), rng.choice(same), label, rng)
    return {"sentence": s1, "choices": choices, "label": label}


SYNONYM = classification(
    "paraphrase_synonyms", CLUSTER, "World Paraphrase: synonyms",
    ("sentence1", "sentence2"),
    [
        tpl("same_meaning", "First sentence: {sentence1}\nSecond sentence: {sentence2}\n"
            "Do the two sentences mean the same thing? Answer yes or no.\n{options}"),
        tpl("paraphrase_q", '"{sentence1}"\n"{sentence2}"\nIs the second sentence a paraphrase of the first sentence?\n'
            "{options}"),
        tpl("same_fact", "{sentence1}\n{sentence2}\nDo these two sentences describe the same event?\n{options}"),
        tpl("other_words", 'Is "{sentence2}" the same as "{sentence1}" in other words?\n{options}'),
        tpl("which_option", "1. {sentence1}\n2. {sentence2}\nDo the first sentence and the second sentence "
            "match?\n{options}"),
        inv("write", 'Sentence: {sentence1}\nWrite a second sentence; asked "same meaning?", the answer is {answer}.',
            "{sentence2}"),
    ],
    options=YES_NO,
    description="Whether two sentences mean the same when one swaps in synonyms or may change one fact.",
)

REORDER = classification(
    "paraphrase_reorder", CLUSTER, "World Paraphrase: word order",
    ("sentence1", "sentence2"),
    [
        tpl("same_meaning", "{sentence1}\n{sentence2}\nDo the first sentence and the second sentence say the same "
            "thing?\n{options}"),
        tpl("mean_same", 'Does "{sentence1}" mean the same as "{sentence2}"? Answer yes or no.\n{options}'),
        tpl("rewrite", "Sentence A: {sentence1}\nSentence B: {sentence2}\nIs sentence B a correct rewrite of "
            "sentence A?\n{options}"),
        tpl("both_true", "First sentence: {sentence1}\nSecond sentence: {sentence2}\nIs each one true when the other "
            "is?\n{options}"),
        tpl("which_option", "{sentence1} / {sentence2}\nAre these two sentences paraphrases? Pick one of the options.\n"
            "{options}"),
        inv("write", "Sentence: {sentence1}\nWrite another sentence about the same people. Same meaning? {answer}.",
            "{sentence2}"),
    ],
    options=YES_NO,
    description="Whether two sentences about two people mean the same after the people, roles or word order change.",
)

PICK = classification(
    "paraphrase_pick", CLUSTER, "World Paraphrase: pick the match",
    ("sentence",),
    [
        tpl("which_option", "{sentence}\nWhich of the options means the same?\n{options}"),
        tpl("other_words", "Which says this in other words? {sentence}\n{options}"),
        tpl("pick", "Sentence: {sentence}\nPick the paraphrase.\n{options}"),
        tpl("same_thing", 'Find the same meaning as "{sentence}"\n{options}'),
        tpl("rewrite", "{sentence} Which is a correct rewrite?\n{options}"),
        inv("write", "Say this in other words: {sentence}", "{answer}"),
    ],
    options_field="choices",
    description="Which of three sentences says the same thing as a given sentence.",
)

TASKS = [
    SuiteTask(SYNONYM, _synonym_row),
    SuiteTask(REORDER, _reorder_row),
    SuiteTask(PICK, _pick_row, n_labels=3),
]
