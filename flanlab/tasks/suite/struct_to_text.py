"""Struct-to-text: attribute tables turned into sentences, and sentences checked against tables."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from flanlab.tasks.declare import classification, generation, inv, tpl
from flanlab.tasks.suite.world import (
    COLOURS,
    OBJECTS,
    PEOPLE,
    PLACES,
    SuiteTask,
    other,
    place_at,
    plural,
)

CLUSTER = "struct_to_text"
_ACTIONS = ("found", "lost", "took", "bought", "saw", "dropped")


def _has_values(rng: random.Random) -> list[Any]:
    """[name, item, colour, count] for a possession fact with a count from 1 to 9."""
    return [rng.choice(PEOPLE).name, rng.choice(OBJECTS), rng.choice(COLOURS), rng.randint(1, 9)]


def _has_table(name: str, obj: str, colour: str, count: int) -> str:
    return f"name: {name} | item: {obj} | colour: {colour} | count: {count}"


def _has_sentence(name: str, obj: str, colour: str, count: int) -> str:
    return f"{name} has a {colour} {obj}." if count == 1 else f"{name} has {count} {colour} {plural(obj)}."


def _event_table(rng: random.Random) -> tuple[str, list[str]]:
    """(table, [name, action, object, place]) for an event."""
    values = [rng.choice(PEOPLE).name, rng.choice(_ACTIONS), rng.choice(OBJECTS), rng.choice(PLACES)]
    return "who: {} | action: {} | item: {} | place: {}".format(*values), values


def _event_sentence(name: str, action: str, obj: str, place: str) -> str:
    return f"{name} {action} a {obj} in the {place}."


def _altered(rng: random.Random, values: list[str]) -> list[str]:
    """The event with exactly one of its four values changed."""
    pools = ([p.name for p in PEOPLE], _ACTIONS, OBJECTS, PLACES)
    i = rng.randrange(4)
    out = list(values)
    out[i] = other(rng, pools[i], values[i])
    return out


def _has_row(rng: random.Random, label: int) -> dict[str, Any]:
    values = _has_values(rng)
    return {"table": _has_table(*values), "target": _has_sentence(*values)}


def _event_row(rng: random.Random, label: int) -> dict[str, Any]:
    table, values = _event_table(rng)
    return {"table": table, "target": _event_sentence(*values)}


def _match_row(rng: random.Random, label: int) -> dict[str, Any]:
    table, values = _event_table(rng)
    sentence = _event_sentence(*(values if label == 0 else _altered(rng, values)))
    return {"table": table, "sentence": sentence, "label": label}


def _pick_row(rng: random.Random, label: int) -> dict[str, Any]:
    values = _has_values(rng)
    sentence = _has_sentence(*values)
    pools: tuple[Sequence[Any], ...] = ((), OBJECTS, COLOURS, range(1, 10))
    wrong: list[str] = []
    for i in rng.sample((1, 2, 3), 2):  # two near-misses, each changing a different field
        changed = list(values)
        changed[i] = other(rng, pools[i], values[i])
        wrong.append(_has_sentence(*changed))
    return {"table": _has_table(*values), "choices": place_at(wrong, sentence, label, rng), "label": label}


HAS = generation(
    "struct_possession_sentence", CLUSTER, "World Struct-to-text: possessions",
    ("table",),
    [
        tpl("sentence", "{table}\nWrite a sentence that says what the table says."),
        tpl("describe", "Table: {table}\nDescribe the table in one sentence."),
        tpl("turn_into", "Turn this table into a short sentence: {table}"),
        tpl("data", "Here is some data: {table}\nWhat sentence does the data describe?"),
        tpl("words", "Write the facts in the table as words.\n{table}"),
        inv("write", "Sentence: {target}\nWrite this as a table with name, item, colour and count.", "{table}"),
    ],
    description="Writing one sentence that states who has how many items of which colour, from a four-field table.",
)

EVENT = generation(
    "struct_event_sentence", CLUSTER, "World Struct-to-text: events",
    ("table",),
    [
        tpl("sentence", "{table}\nWrite a sentence that says what the table says."),
        tpl("describe", "Table: {table}\nDescribe the event in one sentence."),
        tpl("turn_into", "Turn this table into a short sentence: {table}"),
        tpl("data", "Here is some data about an event: {table}\nWrite it as a sentence."),
        tpl("what_happened", "What happened? Use the table.\n{table}"),
        inv("write", "Sentence: {target}\nWrite this as a table with who, action, item and place.", "{table}"),
    ],
    description="Writing one sentence that states who did what to which item where, from a four-field table.",
)

MATCH = classification(
    "struct_sentence_match", CLUSTER, "World Struct-to-text: check a sentence",
    ("table", "sentence"),
    [
        tpl("describe", "Table: {table}\nSentence: {sentence}\nDoes the sentence describe the table? Answer yes or "
            "no.\n{options}"),
        tpl("match", "{table}\n{sentence}\nDo the table and the sentence match?\n{options}"),
        tpl("based_on", 'Based on the table, is "{sentence}" true?\n{table}\n{options}'),
        tpl("same_facts", "Here is some data: {table}\nDoes this sentence give the same facts? {sentence}\n{options}"),
        tpl("which_option", "Compare the sentence with the table. {sentence}\n{table}\nWhich of the options is "
            "right?\n{options}"),
        inv("write", "Table: {table}\nWrite a sentence; does it match the table? {answer}.", "{sentence}"),
    ],
    options=("yes", "no"),
    description="Whether a sentence states exactly the event in a four-field table, answered yes or no.",
)

PICK = classification(
    "struct_pick_sentence", CLUSTER, "World Struct-to-text: pick the sentence",
    ("table",),
    [
        tpl("which_option", "{table}\nWhich of the options says what the table says?\n{options}"),
        tpl("describe", "Table: {table}\nPick the sentence that describes the table.\n{options}"),
        tpl("match", "Which sentence matches this data? {table}\n{options}"),
        tpl("based_on", "Based on the table, which of these is true?\n{table}\n{options}"),
        tpl("facts", "Facts: {table}\nChoose the sentence with the same facts.\n{options}"),
        inv("write", "Sentence: {answer}\nWrite this as a table with name, item, colour and count.", "{table}"),
    ],
    options_field="choices",
    description="Which of three sentences about one person states what a four-field possession table says.",
)

TASKS = [
    SuiteTask(HAS, _has_row),
    SuiteTask(EVENT, _event_row),
    SuiteTask(MATCH, _match_row),
    SuiteTask(PICK, _pick_row, n_labels=3),
]
