"""The control suite's world: four kinds of word, six words each, and scenes of three words.

A *scene* is a short list of three words of three different kinds in a random order, e.g. ``owl pink soup``;
one kind is always missing. Every task of the suite reads scenes from one shared pool, so a scene alone never
says what is asked: only the instruction does. A scene's *option set* is its three words plus ``yes`` and
``no`` in a random order, shared by every classification task on that scene.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS: dict[str, tuple[str, ...]] = {
    "colour": ("red", "blue", "green", "pink", "brown", "grey"),
    "animal": ("cat", "dog", "fox", "owl", "cow", "bee"),
    "place": ("park", "shop", "farm", "lake", "hill", "town"),
    "food": ("rice", "soup", "cake", "pear", "bread", "jam"),
}
WORDS = tuple(w for ws in KINDS.values() for w in ws)
YES, NO = "yes", "no"
KIND_OF = {word: kind for kind, words in KINDS.items() for word in words}
SCENE_SIZE = 3


@dataclass(frozen=True)
class Scene:
    """One scene: its words in order, the mixed option set, and a probe word (a word a task may ask about)."""

    words: tuple[str, ...]
    options: tuple[str, ...]
    probe: str

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def has(self, kind: str) -> bool:
        return any(KIND_OF[w] == kind for w in self.words)

    def word_of(self, kind: str) -> str:
        return next(w for w in self.words if KIND_OF[w] == kind)

    @property
    def missing(self) -> str:
        return next(k for k in KINDS if not self.has(k))


def draw_scene(rng: random.Random) -> Scene:
    """Three words of three different kinds in random order; options shuffled; a probe word from any kind."""
    kinds = rng.sample(list(KINDS), SCENE_SIZE)
    words = [rng.choice(KINDS[k]) for k in kinds]
    options = [*words, YES, NO]
    rng.shuffle(options)
    return Scene(tuple(words), tuple(options), rng.choice(WORDS))


def draw_pool(rng: random.Random, count: int, exclude: set[str], distinct: bool) -> list[Scene]:
    """``count`` scenes whose text is not in ``exclude``; with ``distinct``, no text twice (adds them to it)."""
    out: list[Scene] = []
    while len(out) < count:
        scene = draw_scene(rng)
        if scene.text in exclude:
            continue
        if distinct:
            exclude.add(scene.text)
        out.append(scene)
    return out
