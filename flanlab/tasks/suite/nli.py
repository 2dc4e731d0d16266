"""NLI: does a first sentence (the premise) support a second one (the hypothesis)?"""

from __future__ import annotations

import random
from typing import Any

from flanlab.tasks.declare import classification, inv, tpl
from flanlab.tasks.suite.world import (
    COLOURS,
    OBJECTS,
    PEOPLE,
    PLACES,
    SuiteTask,
    other,
    plural,
)

CLUSTER = "nli"
YES_MAYBE_NO = ("yes", "maybe", "no")
YES_NO = ("yes", "no")


def _fact_row(rng: random.Random, label: int) -> dict[str, Any]:
    p = rng.choice(PEOPLE)
    q = other(rng, PEOPLE, p)
    colour, colour2 = rng.sample(COLOURS, 2)
    obj = rng.choice(OBJECTS)
    place = rng.choice(PLACES)
    premise = f"{p.name} put a {colour} {obj} in the {place}."
    if label == 0:
        hyps = (f"The {obj} is {colour}.", f"{p.name} put something in the {place}.",
                f"There is a {obj} in the {place}.", f"{p.name} put a {obj} somewhere.",
                f"Something {colour} is in the {place}.")
    elif label == 1:
        hyps = (f"The {obj} is big.", f"The {obj} is small.", f"{q.name} saw the {obj}.",
                f"{p.name} bought the {obj} last week.", f"{q.name} was in the {place}.")
    else:
        hyps = (f"The {obj} is {colour2}.", f"{p.name} put nothing in the {place}.", f"The {obj} is not {colour}.",
                f"{p.name} did not put a {obj} in the {place}.", f"There is no {obj} in the {place}.")
    return {"premise": premise, "hypothesis": rng.choice(hyps), "label": label}


def _count_row(rng: random.Random, label: int) -> dict[str, Any]:
    a, b = rng.sample(PEOPLE, 2)
    n, m = rng.sample(range(1, 10), 2)
    things = plural(rng.choice(OBJECTS))
    premise = f"{a.name} has {n} {things} and {b.name} has {m} {things}."
    more, less = (a, b) if n > m else (b, a)
    true = (f"{more.name} has more {things} than {less.name}.", f"{less.name} has fewer {things} than {more.name}.",
            f"Together they have {n + m} {things}.")
    wrong_total = other(rng, range(2, 19), n + m)
    false = (f"{less.name} has more {things} than {more.name}.", f"{more.name} has fewer {things} than {less.name}.",
             f"Together they have {wrong_total} {things}.")
    return {"premise": premise, "hypothesis": rng.choice(true if label == 0 else false), "label": label}


def _event_row(rng: random.Random, label: int) -> dict[str, Any]:
    a, b = rng.sample(PEOPLE, 2)
    colour, colour2 = rng.sample(COLOURS, 2)
    obj = rng.choice(OBJECTS)
    place = rng.choice(PLACES)
    premise = f"{a.name} gave the {colour} {obj} to {b.name} in the {place}."
    if label == 0:
        hyps = (f"{b.name} got a {obj}.", f"{a.name} gave something to {b.name}.",
                f"{a.name} and {b.name} were in the {place}.", f"{b.name} now has the {obj}.")
    elif label == 1:
        hyps = (f"{b.name} liked the {obj}.", f"{a.name} bought the {obj} at the shop.",
                f"{b.name} lost the {obj} later.", f"{b.name} said thank you.")
    else:
        hyps = (f"{b.name} gave the {obj} to {a.name}.", f"{a.name} kept the {obj}.",
                f"{b.name} got nothing from {a.name}.", f"The {obj} was {colour2}.")
    return {"premise": premise, "hypothesis": rng.choice(hyps), "label": label}


FACT = classification(
    "nli_fact_entailment", CLUSTER, "World NLI: facts",
    ("premise", "hypothesis"),
    [
        tpl("based_on", '{premise}\nBased on the text, is it true that "{hypothesis}"?\n{options}'),
        tpl("first_second", "Read the first sentence and say if the second sentence follows from it.\n"
            "First sentence: {premise}\nSecond sentence: {hypothesis}\n{options}"),
        tpl("premise_hyp", "Premise: {premise}\nHypothesis: {hypothesis}\nDoes the premise support the hypothesis?\n"
            "{options}"),
        tpl("suppose", 'Suppose this is true: {premise}\nCan we say that "{hypothesis}"? Answer yes, no or maybe.\n'
            "{options}"),
        tpl("which_option", 'Text: {premise}\nClaim: {hypothesis}\nWhich of the options fits the claim, based on the '
            "text?\n{options}"),
        inv("write_claim", 'Text: {premise}\nWrite a second sentence so that the answer to "does it follow from the '
            'text?" is {answer}.', "{hypothesis}"),
    ],
    options=YES_MAYBE_NO,
    description="Whether a sentence about where someone put a coloured object supports, contradicts or leaves open "
                "a claim.",
)

COUNT = classification(
    "nli_count_entailment", CLUSTER, "World NLI: counts",
    ("premise", "hypothesis"),
    [
        tpl("based_on", '{premise}\nBased on the text, is "{hypothesis}" true? Answer yes or no.\n{options}'),
        tpl("first_second", "First sentence: {premise}\nSecond sentence: {hypothesis}\n"
            "Does the second sentence follow from the first sentence?\n{options}"),
        tpl("premise_hyp", "Premise: {premise}\nHypothesis: {hypothesis}\nIs the hypothesis entailed?\n{options}"),
        tpl("given", 'Given that: {premise}\nIs it right that "{hypothesis}"?\n{options}'),
        tpl("check", "Check the claim against the text. Text: {premise} Claim: {hypothesis}\n"
            "Which of the options is correct?\n{options}"),
        inv("write_claim", "Text: {premise}\nWrite a claim about the numbers whose answer is {answer}.",
            "{hypothesis}"),
    ],
    options=YES_NO,
    description="Whether a claim comparing or adding two small counts follows from a sentence that states them.",
)

EVENT = classification(
    "nli_event_entailment", CLUSTER, "World NLI: events",
    ("premise", "hypothesis"),
    [
        tpl("based_on", "{premise}\nBased on the text, can we say this: {hypothesis}\n{options}"),
        tpl("first_second", "Does the first sentence support the second sentence?\nFirst sentence: {premise}\n"
            "Second sentence: {hypothesis}\n{options}"),
        tpl("premise_hyp", "Premise: {premise}\nHypothesis: {hypothesis}\nIs the hypothesis true, false or unknown? "
            "Answer yes, no or maybe.\n{options}"),
        tpl("story", 'Here is a short story: {premise}\nIs "{hypothesis}" true?\n{options}'),
        tpl("which_option", "{premise} {hypothesis}\nDoes the second sentence follow from the first sentence? Pick "
            "one of the options.\n{options}"),
        inv("write_claim", "Story: {premise}\nWrite a sentence about the story; is it true? {answer}.", "{hypothesis}"),
    ],
    options=YES_MAYBE_NO,
    description="Whether a sentence about one person giving another an object supports, contradicts or leaves "
                "open a claim.",
)

TASKS = [
    SuiteTask(FACT, _fact_row),
    SuiteTask(COUNT, _count_row),
    SuiteTask(EVENT, _event_row),
]
