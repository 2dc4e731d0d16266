"""Sentiment: lexicon words, intensifiers and negation ("not" flips the polarity)."""

from __future__ import annotations

import random
from typing import Any

from flanlab.tasks.declare import classification, generation, inv, tpl
from flanlab.tasks.suite.world import (
    INTENSIFIERS,
    NEGATIVE,
    PEOPLE,
    POSITIVE,
    THINGS,
    SuiteTask,
)

CLUSTER = "sentiment"


def _phrase(rng: random.Random, positive: bool) -> str:
    """``was [not] [very] ADJ`` whose overall polarity is ``positive``."""
    negated = rng.random() < 0.4
    word = rng.choice(NEGATIVE if positive == negated else POSITIVE)
    return f"was {'not ' if negated else ''}{rng.choice(INTENSIFIERS)}{word}"


def _review(rng: random.Random, positive: bool, short: bool = False) -> str:
    """A review of one thing, or (unless ``short``) of two things with the same polarity."""
    thing = rng.choice(THINGS)
    if not short and rng.random() < 0.4:
        thing2 = rng.choice(THINGS)
        return f"The {thing} {_phrase(rng, positive)} and the {thing2} {_phrase(rng, positive)}."
    return rng.choice(("The {t} {p}.", "I think the {t} {p}.", "Honestly, the {t} {p}.")).format(
        t=thing, p=_phrase(rng, positive))


def _opinion(rng: random.Random, positive: bool) -> tuple[str, str]:
    """A sentence reporting what a person thought, and the person's name."""
    p = rng.choice(PEOPLE)
    verb = rng.choice(("said", "thought", "felt", "told us"))
    return f"{p.name} {verb} the {rng.choice(THINGS)} {_phrase(rng, positive)}.", p.name


def _review_row(rng: random.Random, label: int) -> dict[str, Any]:
    return {"review": _review(rng, label == 1), "label": label}


def _liked_row(rng: random.Random, label: int) -> dict[str, Any]:
    ask_happy = rng.random() < 0.6
    positive = (label == 0) == ask_happy
    text, name = _opinion(rng, positive)
    question = f"Did {name} like it?" if ask_happy else f"Was {name} unhappy with it?"
    return {"text": text, "question": question, "label": label}


def _compare_row(rng: random.Random, label: int) -> dict[str, Any]:
    good, bad = _review(rng, True, short=True), _review(rng, False, short=True)
    first, second = (good, bad) if label == 0 else (bad, good)
    return {"sentence1": first, "sentence2": second, "label": label}


def _feeling_row(rng: random.Random, label: int) -> dict[str, Any]:
    positive = rng.random() < 0.5
    text, _ = _opinion(rng, positive)
    return {"text": text, "target": "happy" if positive else "sad"}


REVIEW = classification(
    "sentiment_review", CLUSTER, "World Sentiment: reviews",
    ("review",),
    [
        tpl("positive_or_negative", "{review}\nIs this review positive or negative?\n{options}"),
        tpl("which_option", "Review: {review}\nWhich of the options describes the review?\n{options}"),
        tpl("feel", 'How does the writer feel about it, based on the text? "{review}"\n{options}'),
        tpl("tone", "What is the tone of this sentence?\n{review}\n{options}"),
        tpl("classify", "Classify the sentiment of the text. Text: {review}\n{options}"),
        inv("write", "Write a short {answer} review.", "{review}"),
    ],
    options=("negative", "positive"),
    description="Whether a one- or two-clause review, possibly negated, is positive or negative.",
)

LIKED = classification(
    "sentiment_opinion_question", CLUSTER, "World Sentiment: opinions",
    ("text", "question"),
    [
        tpl("based_on", "{text}\nBased on the text: {question} Answer yes or no.\n{options}"),
        tpl("qa", "Text: {text}\nQuestion: {question}\n{options}"),
        tpl("read", "Read the sentence and answer the question.\n{text}\n{question}\n{options}"),
        tpl("which_option", "{question} Use the text to pick one of the options.\n{text}\n{options}"),
        tpl("opinion", 'Someone said: "{text}"\n{question}\n{options}'),
        inv("write", "Write a sentence where the answer to this question is {answer}: {question}", "{text}"),
    ],
    options=("yes", "no"),
    description="Answering yes or no to whether a person liked (or was unhappy with) something they described.",
)

COMPARE = classification(
    "sentiment_compare", CLUSTER, "World Sentiment: compare two",
    ("sentence1", "sentence2"),
    [
        tpl("more_positive", "First sentence: {sentence1}\nSecond sentence: {sentence2}\nWhich one is more positive?\n"
            "{options}"),
        tpl("happier", "{sentence1}\n{sentence2}\nWhich sentence sounds happier, the first sentence or the second "
            "sentence?\n{options}"),
        tpl("liked", "1. {sentence1}\n2. {sentence2}\nWhich of the options was written by someone who liked it?\n"
            "{options}"),
        tpl("good_one", 'Which of these says something good: "{sentence1}" or "{sentence2}"?\n{options}'),
        tpl("compare", "Compare the first sentence and the second sentence. Which is the positive one?\n"
            "{sentence1}\n{sentence2}\n{options}"),
        inv("write", "Second sentence: {sentence2}\nThe more positive one is {answer}. Write the first sentence.",
            "{sentence1}"),
    ],
    options=("the first sentence", "the second sentence"),
    description="Which of two reviews, one positive and one negative, is the positive one.",
)

FEELING = generation(
    "sentiment_feeling_word", CLUSTER, "World Sentiment: feeling word",
    ("text",),
    [
        tpl("how_feel", "{text}\nHow did the person feel? Answer happy or sad."),
        tpl("one_word", "Text: {text}\nIn one word, was the speaker happy or sad?"),
        tpl("based_on", "Based on the text, write happy or sad.\n{text}"),
        tpl("mood", 'What was the mood of the person in "{text}"? Answer in one word.'),
        tpl("feeling", "{text}\nName the feeling: happy or sad?"),
        inv("write", "Write a sentence about someone who felt {answer}.", "{text}"),
    ],
    description="Naming in one word (happy or sad) how a person felt about something they described.",
)

TASKS = [
    SuiteTask(REVIEW, _review_row),
    SuiteTask(LIKED, _liked_row),
    SuiteTask(COMPARE, _compare_row),
    SuiteTask(FEELING, _feeling_row),
]
