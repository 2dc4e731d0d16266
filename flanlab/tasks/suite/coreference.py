"""Coreference: which person a pronoun means, told apart by pronoun gender or by the reason given."""

from __future__ import annotations

import random
from typing import Any

from flanlab.tasks.declare import classification, inv, tpl
from flanlab.tasks.suite.world import (
    OBJECTS,
    PEOPLE,
    PLACES,
    SHE_HE,
    Person,
    SuiteTask,
    other,
)

CLUSTER = "coreference"

# Clauses where only the pronoun's gender tells the two people apart.
_GENDER_FRAMES = (
    "{a} met {b} in the {place}, and {p} {was} happy.",
    "{a} called {b} because {p} needed the {obj}.",
    "{a} saw {b} after {p} lost the {obj}.",
    "{a} waved at {b} when {p} reached the {place}.",
    "{a} gave {b} the {obj} that {p} had found.",
    "{a} sat next to {b} while {p} read a book.",
)
# (clause, reason that points to the first person, reason that points to the second person)
_REASON_FRAMES = (
    ("{a} thanked {b} because {p}", "{was} grateful", "had helped"),
    ("{a} gave {b} a {obj} because {p}", "{was} kind", "had none"),
    ("{a} beat {b} at chess because {p}", "{was} better", "{was} tired"),
    ("{a} helped {b} because {p}", "{was} strong", "{was} stuck"),
    ("{a} paid {b} because {p}", "had bought the {obj}", "had sold the {obj}"),
    ("{a} woke {b} because {p}", "{was} up early", "{was} late"),
    ("{a} asked {b} for help because {p}", "{was} lost", "knew the way"),
)


def _gender_case(rng: random.Random) -> tuple[str, str, Person, Person]:
    """(sentence, pronoun, referent, other person) with the two people of different gender."""
    a = rng.choice(SHE_HE)
    b = other(rng, [x for x in SHE_HE if x.subj != a.subj])
    ref, non = (a, b) if rng.random() < 0.5 else (b, a)
    sentence = rng.choice(_GENDER_FRAMES).format(
        a=a.name, b=b.name, p=ref.subj, was=ref.was, place=rng.choice(PLACES), obj=rng.choice(OBJECTS))
    return sentence, ref.subj, ref, non


def _reason_case(rng: random.Random) -> tuple[str, str, Person, Person]:
    """(sentence, pronoun, referent, other person) with both people sharing a pronoun."""
    a = rng.choice(PEOPLE)
    b = other(rng, [x for x in PEOPLE if x.subj == a.subj], a)
    clause, to_a, to_b = rng.choice(_REASON_FRAMES)
    first = rng.random() < 0.5
    text = f"In the {rng.choice(PLACES)}, {clause} {to_a if first else to_b}."
    sentence = text.format(a=a.name, b=b.name, p=a.subj, was=a.was, obj=rng.choice(OBJECTS))
    return sentence, a.subj, (a if first else b), (b if first else a)


def _pick_row(case: Any) -> Any:
    def make(rng: random.Random, label: int) -> dict[str, Any]:
        sentence, pronoun, ref, non = case(rng)
        candidates = [non.name, ref.name] if label == 1 else [ref.name, non.name]
        return {"sentence": sentence, "pronoun": pronoun, "candidates": candidates, "label": label}
    return make


def _yes_no_row(rng: random.Random, label: int) -> dict[str, Any]:
    sentence, pronoun, ref, non = (_gender_case if rng.random() < 0.5 else _reason_case)(rng)
    return {"sentence": sentence, "pronoun": pronoun, "candidate": (ref if label == 0 else non).name, "label": label}


GENDER = classification(
    "coreference_pronoun_gender", CLUSTER, "World Coreference: pronouns",
    ("sentence", "pronoun"),
    [
        tpl("who", '{sentence}\nWho does "{pronoun}" refer to?\n{options}'),
        tpl("which_option", 'Sentence: {sentence}\nWhich of the options is "{pronoun}" in the sentence?\n{options}'),
        tpl("pronoun", 'In the text "{sentence}", the word "{pronoun}" means which person?\n{options}'),
        tpl("resolve", "Read the sentence and find the person the pronoun points to.\n{sentence}\n"
            "Pronoun: {pronoun}\n{options}"),
        tpl("based_on", 'Based on the text, who is "{pronoun}"? {sentence}\n{options}'),
        inv("write", 'Write a sentence about two people where "{pronoun}" means {answer}.', "{sentence}"),
    ],
    options_field="candidates",
    description="Which of two people a she/he pronoun refers to, when only the pronoun's gender tells them apart.",
)

REASON = classification(
    "coreference_reason", CLUSTER, "World Coreference: reasons",
    ("sentence", "pronoun"),
    [
        tpl("who", '{sentence}\nIn this sentence, who does "{pronoun}" refer to?\n{options}'),
        tpl("which_option", 'Text: {sentence}\nWhich of the options does "{pronoun}" mean?\n{options}'),
        tpl("think", 'Think about why it happened. {sentence}\nWho is "{pronoun}"?\n{options}'),
        tpl("resolve", "Sentence: {sentence}\nPronoun: {pronoun}\nWhich person is the pronoun about?\n{options}"),
        tpl("based_on", 'Based on the text, "{pronoun}" is which person? {sentence}\n{options}'),
        inv("write", 'Write a sentence with a reason, where "{pronoun}" means {answer}.', "{sentence}"),
    ],
    options_field="candidates",
    description="Which of two same-pronoun people a pronoun refers to, decided by the reason the sentence gives.",
)

YES_NO = classification(
    "coreference_yes_no", CLUSTER, "World Coreference: check a reading",
    ("sentence", "pronoun", "candidate"),
    [
        tpl("refer", '{sentence}\nDoes "{pronoun}" refer to {candidate}? Answer yes or no.\n{options}'),
        tpl("same_person", 'Sentence: {sentence}\nAre "{pronoun}" and {candidate} the same person?\n{options}'),
        tpl("based_on", 'Based on the text, is "{pronoun}" {candidate}?\n{sentence}\n{options}'),
        tpl("means", 'In "{sentence}", the word "{pronoun}" means {candidate}. True?\n{options}'),
        tpl("which_option", "Read the text. {sentence}\nQuestion: is {candidate} the one called "
            '"{pronoun}"? Pick one of the options.\n{options}'),
        inv("write", 'Write a sentence with "{pronoun}" in it. Does it mean {candidate}? {answer}.', "{sentence}"),
    ],
    options=("yes", "no"),
    description="Whether a pronoun in a sentence refers to a named candidate, answered yes or no.",
)

TASKS = [
    SuiteTask(GENDER, _pick_row(_gender_case), n_labels=2),
    SuiteTask(REASON, _pick_row(_reason_case), n_labels=2),
    SuiteTask(YES_NO, _yes_no_row),
]
