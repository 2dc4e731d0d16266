"""Multi-step tasks for the control suite, each row with a rationale built from the scene (docs/cot.md).

Two families, each needing two steps that the control suite's other tasks teach one at a time:

* look up, then verify: is the K word of the list Q? Rationale: ``The place in the list is farm. farm is not park.``
* count, then compare: are two of its words K1 or K2? Rationale: ``The colour is red. The list has no food. That is
  one, not two.``

Clusters: ``steps_seen`` (colour and animal lookups; the pairs colour+animal, colour+place, animal+food) trains;
``steps`` (place and food lookups; the pair place+food) is held out. Every held-out answer is yes or no, and every
word of a held-out rationale occurs in a training rationale or scene. Options are the scene's mixed set, as in
the rest of the suite. Rows draw from the suite's scene pools.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from flanlab.tasks.control.lexicon import KIND_OF, KINDS, NO, YES, Scene
from flanlab.tasks.control.tasks import ANSWER_TYPES, ControlTask, _templates, article, scene_words
from flanlab.tasks.spec import TaskSpec

RATIONALE = "rationale"
VERIFY = (
    ("is_it", "List: {scene}\nIs the {k} in the list {query}? Answer yes or no.\n{options}"),
    ("check", "{scene}\nLook up the {k} word of this list: is it {query}? Pick yes or no from the options.\n{options}"),
)
COUNT = (
    ("two_of", "List: {scene}\nCount the words that are {a_k} or {a_k2}: are there two? Answer yes or no.\n{options}"),
    ("both", "{scene}\nDoes this list have {a_k} word and {a_k2} word? Count them, then pick yes or no.\n{options}"),
)
SEEN_VERIFY, HELD_VERIFY = ("colour", "animal"), ("place", "food")
SEEN_PAIRS, HELD_PAIRS = (("colour", "animal"), ("colour", "place"), ("animal", "food")), (("place", "food"),)


def verify_rationale(scene: Scene, kind: str, query: str) -> str:
    if not scene.has(kind):
        return f"The list has no {kind}."
    word = scene.word_of(kind)
    return f"The {kind} in the list is {word}. {word} is {'' if word == query else 'not '}{query}."


def count_rationale(scene: Scene, kinds: tuple[str, str]) -> str:
    parts = [f"The {k} is {scene.word_of(k)}." if scene.has(k) else f"The list has no {k}." for k in kinds]
    n = sum(scene.has(k) for k in kinds)
    return " ".join([*parts, "That is two." if n == 2 else f"That is {('none', 'one')[n]}, not two."])


def _spec(name: str, cluster: str, display: str, fields: tuple[str, ...], bodies, kind: str, kind2: str | None,
          description: str, solver) -> TaskSpec:
    if kind2 is not None:  # the second kind of a count task
        bodies = tuple((tid, body.replace("{a_k2}", article(kind2))) for tid, body in bodies)
    templates = _templates(kind, bodies)
    return TaskSpec(name=name, cluster=cluster, display_name=display, kind="classification", input_fields=fields,
                    templates=templates, metric="accuracy", options_field="options", description=description,
                    answer_types=ANSWER_TYPES, metadata={"answer_space": "yes_no", "rationale_field": RATIONALE},
                    solver=solver)


def _row(scene: Scene, query: str, answer: str, rationale: str) -> dict[str, Any]:
    options = list(scene.options)
    return {"scene": scene.text, "query": query, "options": options, "label": options.index(answer),
            RATIONALE: rationale}


def verify_task(kind: str, cluster: str) -> ControlTask:
    """Is the scene's word of ``kind`` the query word? Balanced yes/no; ``no`` rows may lack the kind."""
    def solve(row: Mapping[str, Any]) -> str | None:
        query = row.get("query")
        return None if query is None else (YES if query in scene_words(row) else NO)

    def make(scene: Scene, label: int, rng: random.Random) -> dict[str, Any]:
        query = scene.word_of(kind) if label == 0 else rng.choice([w for w in KINDS[kind] if w not in scene.words])
        return _row(scene, query, YES if label == 0 else NO, verify_rationale(scene, kind, query))

    spec = _spec(f"verify_{kind}", cluster, f"Verify: {kind}", ("scene", "query"), VERIFY, kind, None,
                 f"Look up the {kind} word of a list, then check it against a given word.", solve)
    return ControlTask(spec, lambda scene, label: label == 1 or scene.has(kind), make, labels=2)


def count_task(kinds: tuple[str, str], cluster: str) -> ControlTask:
    """Are two of the scene's words of the two kinds (both present)? Balanced yes/no."""
    def solve(row: Mapping[str, Any]) -> str | None:
        present = {KIND_OF.get(w) for w in scene_words(row)}
        return YES if set(kinds) <= present else NO

    def make(scene: Scene, label: int, _rng: random.Random) -> dict[str, Any]:
        return _row(scene, scene.probe, YES if label == 0 else NO, count_rationale(scene, kinds))

    spec = _spec(f"count_{kinds[0]}_{kinds[1]}", cluster, f"Count: {kinds[0]} and {kinds[1]}", ("scene",), COUNT,
                 kinds[0], kinds[1], f"Whether a list has both {article(kinds[0])} and {article(kinds[1])}.", solve)
    both = lambda scene: all(scene.has(k) for k in kinds)  # noqa: E731
    return ControlTask(spec, lambda scene, label: both(scene) == (label == 0), make, labels=2)


def multistep_tasks() -> list[ControlTask]:
    """The trained cluster ``steps_seen``, then the held-out cluster ``steps``."""
    return [*(verify_task(k, "steps_seen") for k in SEEN_VERIFY), *(count_task(p, "steps_seen") for p in SEEN_PAIRS),
            *(verify_task(k, "steps") for k in HELD_VERIFY), *(count_task(p, "steps") for p in HELD_PAIRS)]
