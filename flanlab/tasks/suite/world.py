"""One small world shared by every suite task, plus the row-sampling harness.

The world is a fixed vocabulary: a dozen people with pronouns, objects with colours and sizes,
places, a few events, small numbers, a sentiment lexicon and some synonyms. Every task draws its
rows from it, so a tokenizer of a couple of thousand entries covers the whole suite.

Sampling (:func:`build_rows`) is seeded per task with ``seed`` and the CRC-32 of the task's name,
fills ``validation`` then ``dev`` then ``train``, never lets a train row share its input with an
evaluation row, and gives classification rows exactly balanced labels (a shuffled cycle over the
option indices; each row is drawn to match its label).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flanlab.tasks.spec import TaskSpec

# --------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class Person:
    """A named person with pronoun forms and the matching past tense of "to be"."""

    name: str
    subj: str
    obj: str
    poss: str
    was: str


_PRONOUNS = {
    "she": ("she", "her", "her", "was"),
    "he": ("he", "him", "his", "was"),
    "they": ("they", "them", "their", "were"),
}
_NAMES = (
    ("Ann", "she"), ("Ben", "he"), ("Cara", "she"), ("Dan", "he"), ("Eve", "she"), ("Finn", "he"),
    ("Gwen", "she"), ("Hugo", "he"), ("Ivy", "she"), ("Jack", "he"), ("Kim", "they"), ("Leo", "they"),
)
PEOPLE: tuple[Person, ...] = tuple(Person(n, *_PRONOUNS[p]) for n, p in _NAMES)
SHE_HE: tuple[Person, ...] = tuple(p for p in PEOPLE if p.subj != "they")

OBJECTS = ("ball", "cup", "book", "box", "hat", "lamp", "key", "bag", "kite", "shoe")
COLOURS = ("red", "blue", "green", "yellow", "black", "white")
SIZES = ("small", "big")
PLACES = ("kitchen", "garden", "park", "school", "shop", "hall", "library")
NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
)

# Verbs (past tense) and their synonyms, for paraphrase.
VERB_SYNONYMS = {"found": "spotted", "took": "grabbed", "bought": "purchased", "saw": "noticed", "lost": "misplaced"}
SIZE_SYNONYMS = {"big": "large", "small": "little"}

# Sentiment lexicon: things to judge, positive and negative words, intensifiers.
THINGS = ("movie", "meal", "book", "trip", "game", "song", "party", "show", "class", "walk")
POSITIVE = ("good", "great", "nice", "fun", "lovely", "sweet", "funny", "warm")
NEGATIVE = ("bad", "awful", "dull", "boring", "sad", "rude", "cold", "ugly")
INTENSIFIERS = ("", "very ", "really ", "quite ")


def plural(noun: str) -> str:
    """English plural of a world noun."""
    return noun + "es" if noun.endswith(("x", "s", "ch", "sh")) else noun + "s"


def cap(text: str) -> str:
    """Upper-case the first character."""
    return text[:1].upper() + text[1:]


def other(rng: random.Random, pool: Sequence[Any], *exclude: Any) -> Any:
    """A random member of ``pool`` that is none of ``exclude``."""
    while True:
        item = rng.choice(pool)
        if item not in exclude:
            return item


def place_at(items: Sequence[str], correct: str, label: int, rng: random.Random) -> list[str]:
    """Shuffle ``items`` (wrong answers) and insert ``correct`` at index ``label``."""
    out = list(items)
    rng.shuffle(out)
    out.insert(label, correct)
    return out


# --------------------------------------------------------------------------- sampling harness

RowMaker = Callable[[random.Random, int], dict[str, Any]]
"""Draws one row. For classification the int is the label the row must have; generation ignores it."""


@dataclass(frozen=True)
class SuiteTask:
    """A task spec plus its row generator. ``n_labels`` is the per-row option count for ``options_field`` tasks."""

    spec: TaskSpec
    make_row: RowMaker
    n_labels: int = 0

    @property
    def num_labels(self) -> int:
        if not self.spec.is_classification:
            return 0
        return self.n_labels or len(self.spec.options or ())


def task_rng(seed: int, name: str) -> random.Random:
    """The task's private RNG: the run seed mixed with the CRC-32 of the task's name."""
    return random.Random((seed << 32) ^ zlib.crc32(name.encode("utf-8")))


def row_key(spec: TaskSpec, row: dict[str, Any]) -> tuple[str, ...]:
    """What makes two rows "the same": their input fields, plus per-row options when the task has them."""
    key = tuple(str(row[f]) for f in spec.input_fields)
    if spec.options_field:
        key += tuple(row[spec.options_field])
    return key


_MAX_TRIES = 2000
_FRESH_TRIES = 30  # after this many repeats, a train row may repeat another train row (never an eval row)


def build_rows(task: SuiteTask, seed: int, train_rows: int, eval_rows: int) -> dict[str, list[dict[str, Any]]]:
    """Draw ``validation``, ``dev`` (``eval_rows`` each, all distinct) and ``train`` (disjoint from both)."""
    spec, rng, n = task.spec, task_rng(seed, task.spec.name), task.num_labels
    held: set[tuple[str, ...]] = set()
    out: dict[str, list[dict[str, Any]]] = {}
    for split, count in (("validation", eval_rows), ("dev", eval_rows), ("train", train_rows)):
        if n:
            labels = [i % n for i in range(count)]
            rng.shuffle(labels)
        else:
            labels = [0] * count
        is_train = split == "train"
        seen: set[tuple[str, ...]] = set()
        rows = []
        for label in labels:
            for tries in range(_MAX_TRIES):
                row = task.make_row(rng, label)
                key = row_key(spec, row)
                if key in held:
                    continue
                if key not in seen or (is_train and tries >= _FRESH_TRIES):
                    break
            else:
                raise RuntimeError(f"suite task {spec.name!r}: cannot draw enough distinct {split} rows")
            seen.add(key)
            rows.append(row)
        if not is_train:
            held |= seen
        out[split] = rows
    return out
