"""Reading comprehension: answer a question from a three-fact context."""

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
    other,
    place_at,
)

CLUSTER = "reading_comprehension"

Fact = tuple[str, str, str, str]  # (kind "has"/"in", name, colour or "", object or place)


def _context(rng: random.Random, need_has: bool = False, need_in: bool = False) -> tuple[str, list[Fact]]:
    """Three facts about three different people: possessions ("has") and locations ("in")."""
    people = rng.sample(PEOPLE, 3)
    colours, objs, places = rng.sample(COLOURS, 3), rng.sample(OBJECTS, 3), rng.sample(PLACES, 3)
    kinds = [rng.random() < 0.6 for _ in range(3)]
    if need_has and not any(kinds):
        kinds[rng.randrange(3)] = True
    if need_in and all(kinds):
        kinds[rng.randrange(3)] = False
    facts: list[Fact] = []
    parts = []
    for i, p in enumerate(people):
        if kinds[i]:
            facts.append(("has", p.name, colours[i], objs[i]))
            parts.append(f"{p.name} has a {colours[i]} {objs[i]}.")
        else:
            facts.append(("in", p.name, "", places[i]))
            parts.append(f"{p.name} is in the {places[i]}.")
    return " ".join(parts), facts


def _yes_no_row(rng: random.Random, label: int) -> dict[str, Any]:
    context, facts = _context(rng)
    kind, name, colour, thing = rng.choice(facts)
    if kind == "has":
        if label == 1:
            change = rng.randrange(3)
            if change == 0:
                colour = other(rng, COLOURS, colour)
            elif change == 1:
                thing = other(rng, OBJECTS, *[f[3] for f in facts])
            else:
                name = other(rng, [f[1] for f in facts], name)
        question = f"Does {name} have a {colour} {thing}?"
    else:
        if label == 1:
            thing = other(rng, PLACES, thing)
        question = f"Is {name} in the {thing}?"
    return {"context": context, "question": question, "label": label}


def _colour_row(rng: random.Random, label: int) -> dict[str, Any]:
    context, facts = _context(rng, need_has=True)
    _, name, colour, thing = rng.choice([f for f in facts if f[0] == "has"])
    return {"context": context, "question": f"What colour is the {thing} that {name} has?", "target": colour}


def _who_row(rng: random.Random, label: int) -> dict[str, Any]:
    context, facts = _context(rng)
    kind, name, colour, thing = rng.choice(facts)
    question = f"Who has the {colour} {thing}?" if kind == "has" else f"Who is in the {thing}?"
    names = place_at([f[1] for f in facts if f[1] != name], name, label, rng)
    return {"context": context, "question": question, "names": names, "label": label}


YES_NO = classification(
    "reading_yes_no", CLUSTER, "World Reading: yes/no questions",
    ("context", "question"),
    [
        tpl("based_on", "{context}\nBased on the text, answer yes or no. {question}\n{options}"),
        tpl("qa", "Text: {context}\nQuestion: {question}\n{options}"),
        tpl("read", "Read the text and answer the question.\n{context}\n{question}\n{options}"),
        tpl("which_option", "{question}\nUse this text: {context}\nWhich of the options is right?\n{options}"),
        tpl("true_check", "Here is what we know: {context} {question}\n{options}"),
        inv("write", "Text: {context}\nWrite a question about the text whose answer is {answer}.", "{question}"),
    ],
    options=("yes", "no"),
    description="Answering a yes/no question about who has what or who is where, from a three-sentence context.",
)

COLOUR = generation(
    "reading_colour", CLUSTER, "World Reading: colours",
    ("context", "question"),
    [
        tpl("based_on", "{context}\nBased on the text: {question}"),
        tpl("qa", "Text: {context}\nQuestion: {question}\nAnswer with one word."),
        tpl("read", "Read the text and answer the question.\n{context}\n{question}"),
        tpl("colour", "{question} The answer is a colour from this text: {context}"),
        tpl("short", "Context: {context}\n{question} Give a short answer."),
        inv("write", "Text: {context}\nAsk a question about the text whose answer is {answer}.", "{question}"),
    ],
    description="Answering with one colour word what colour a named person's object is, from a short context.",
)

WHO = classification(
    "reading_who", CLUSTER, "World Reading: who",
    ("context", "question"),
    [
        tpl("based_on", "{context}\nBased on the text: {question}\n{options}"),
        tpl("qa", "Text: {context}\nQuestion: {question}\n{options}"),
        tpl("which_option", "Read the text. {context}\n{question} Which of the options is right?\n{options}"),
        tpl("person", "{question} Pick the person from the text.\n{context}\n{options}"),
        tpl("answer", "Context: {context}\nAnswer the question with one of the names. {question}\n{options}"),
        inv("write", "Text: {context}\nWrite a question about the text whose answer is {answer}.", "{question}"),
    ],
    options_field="names",
    description="Choosing which of the three people in a short context has an object or is in a place.",
)

TASKS = [
    SuiteTask(YES_NO, _yes_no_row),
    SuiteTask(COLOUR, _colour_row),
    SuiteTask(WHO, _who_row, n_labels=3),
]
