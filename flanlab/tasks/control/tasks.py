"""The control suite's tasks: a *select* clause (which kind of word) times a *respond* clause (what to do).

Clusters are respond types. Every classification task on a scene ranks the same mixed option set (the scene's
three words plus yes and no), so a model that ignores the instruction cannot tell which answer is wanted.

| cluster    | respond clause                              | tasks        | answer       | default role |
|------------|---------------------------------------------|--------------|--------------|--------------|
| ``recall`` | name the word of kind K in the list          | one per kind | a scene word | train        |
| ``gap``    | which kind of word is missing from the list? | one          | a kind name  | train        |
| ``presence_seen`` | is there a word of kind K in the list? | colour, animal | yes / no   | train        |
| ``choose`` | pick, from the options, the word of kind K   | one per kind | a scene word | held out     |
| ``presence``| is there a word of kind K in the list?      | place, food  | yes / no     | held out     |

The held-out clusters recombine trained clauses. ``choose`` pairs the select clause of ``recall`` with picking
from the options; its answers are ``recall``'s answers, so content can transfer through the instruction.
``presence`` pairs the select clause of place and food (trained in ``recall``) with the yes/no check trained on
colours and animals in ``presence_seen``; measured, a tiny model learns that check per kind, so ``presence`` is
where format (answering yes or no) transfers and content need not. Every held-out answer string is a training
target, and held-out instructions use only words of training instructions (tests check both).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flanlab.tasks.control.lexicon import KIND_OF, KINDS, NO, YES, Scene
from flanlab.tasks.declare import classification, tpl
from flanlab.tasks.spec import TaskSpec, Template

ANSWER_TYPES = {"yes_no": (YES, NO)}
YES_NO_SPACE = "yes_no"


def article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _templates(kind: str, bodies: tuple[tuple[str, str], ...]) -> tuple[Template, ...]:
    keep = {"scene": "{scene}", "query": "{query}", "options": "{options}"}
    return tuple(tpl(tid, body.format(k=kind, a_k=article(kind), **keep)) for tid, body in bodies)


RECALL = (
    ("name", "List: {scene}\nName the {k} in the list.\n{options}"),
    ("which_word", "{scene}\nWhich option in this list is {a_k}?\n{options}"),
    ("find", "Find the {k} word in the list below.\n{scene}\n{options}"),
)
GAP = (
    ("which_kind", "List: {scene}\nWhich kind of word is missing from the list: a colour, an animal, a place or "
                   "a food?"),
    ("say_kind", "{scene}\nSay the kind of word that this list does not have."),
    ("find_kind", "Find the kind of word that is not in the list below.\n{scene}"),
)
CHOOSE = (
    ("which_option", "List: {scene}\nWhich of the options is the {k} in the list?\n{options}"),
    ("pick", "{scene}\nPick the option that is {a_k}.\n{options}"),
    ("look_pick", "Look at the list below and pick the {k} word from the options.\n{scene}\n{options}"),
)
PRESENCE = (
    ("is_there", "List: {scene}\nIs there {a_k} in the list? Answer yes or no.\n{options}"),
    ("has", "{scene}\nDoes this list have {a_k} word? Pick yes or no from the options.\n{options}"),
    ("say", "Look at the list below and say yes or no: is one of its words {a_k}?\n{scene}\n{options}"),
)

# Input inversion (Flan 2022): the task turned around, the answer given and a list asked for. Kept apart from the
# templates (``TaskSpec.inversions``): they train only under ``template.train_inverted`` (the inversion arm of
# +experiment=template_mixing) and change nothing else.
LOOKUP_INVERSION = ("say_list", "Say a list in which {answer} is the {k} word.")
PRESENCE_INVERSION = ("say_list", "Say a list for which the answer to: is there {a_k} in the list? is {answer}.")
GAP_INVERSION = ("say_list", "Say a list with no word of the kind {answer}.")


def _inversion(kind: str, body: tuple[str, str]) -> tuple[Template, ...]:
    """One inverted template: the answer in the input, the scene as the target."""
    text = body[1].format(k=kind, a_k=article(kind) if kind else "", answer="{answer}")
    return (Template(body[0], text, target="{scene}", inverted=True),)


Accepts = Callable[[Scene, int], bool]
Maker = Callable[[Scene, int, random.Random], dict[str, Any]]


@dataclass(frozen=True)
class ControlTask:
    """A spec, which scenes a row of a given label may use, and how the row is made from its scene.

    ``labels`` is the number of label values rows are balanced over (1: rows take scenes in pool order).
    """

    spec: TaskSpec
    accepts: Accepts
    make_row: Maker
    labels: int = 1


def _row(scene: Scene, query: str, answer: str) -> dict[str, Any]:
    options = list(scene.options)
    return {"scene": scene.text, "query": query, "options": options, "label": options.index(answer)}


def _spec(name: str, cluster: str, display: str, fields: tuple[str, ...], templates: tuple[Template, ...],
          description: str, answers: str, solver: Callable[[Mapping[str, Any]], str | None],
          inversions: tuple[Template, ...] = ()) -> TaskSpec:
    return classification(name, cluster, display, fields, templates, options_field="options", description=description,
                          answer_types=ANSWER_TYPES, metadata={"answer_space": answers}, solver=solver,
                          inversions=inversions)


def scene_words(row: Mapping[str, Any]) -> list[str]:
    """The words of a row's scene."""
    return str(row["scene"]).split()


def word_solver(kind: str) -> Callable[[Mapping[str, Any]], str | None]:
    """What a lookup task of ``kind`` answers on any scene: its word of that kind, or None if it has none."""
    return lambda row: next((w for w in scene_words(row) if KIND_OF.get(w) == kind), None)


def presence_solver(kind: str) -> Callable[[Mapping[str, Any]], str | None]:
    """What a presence task of ``kind`` answers on any scene."""
    return lambda row: YES if any(KIND_OF.get(w) == kind for w in scene_words(row)) else NO


def lookup_task(cluster: str, kind: str, bodies: tuple[tuple[str, str], ...], display: str) -> ControlTask:
    """Name (``recall``) or pick (``choose``) the scene's word of ``kind``; only scenes that have one."""
    spec = _spec(f"{cluster}_{kind}", cluster, display, ("scene",), _templates(kind, bodies),
                 f"The {kind} word of a three-word list, ranked among the scene's mixed options.", "scene_word",
                 word_solver(kind), _inversion(kind, LOOKUP_INVERSION))
    return ControlTask(spec, lambda scene, _label: scene.has(kind),
                       lambda scene, _label, _rng: _row(scene, scene.probe, scene.word_of(kind)))


def presence_task(kind: str, cluster: str = "presence") -> ControlTask:
    """Whether the scene has a word of ``kind`` (balanced yes/no)."""
    spec = _spec(f"presence_{kind}", cluster, f"Presence: {kind}", ("scene",), _templates(kind, PRESENCE),
                 f"Whether a three-word list holds {article(kind)}.", YES_NO_SPACE, presence_solver(kind),
                 _inversion(kind, PRESENCE_INVERSION))
    return ControlTask(spec, lambda scene, label: scene.has(kind) == (label == 0),
                       lambda scene, label, _rng: _row(scene, scene.probe, YES if label == 0 else NO), labels=2)


def gap_task() -> ControlTask:
    """The kind of word the scene lacks (generation; the answer is a kind name)."""
    spec = TaskSpec(name="missing_kind", cluster="gap", display_name="Missing kind", kind="generation",
                    input_fields=("scene",), templates=tuple(Template(t, b) for t, b in GAP), metric="exact_match",
                    description="Which of colour, animal, place and food the three-word list lacks.",
                    inversions=_inversion("", GAP_INVERSION))
    return ControlTask(spec, lambda _scene, _label: True, lambda scene, _label, _rng: {
        "scene": scene.text, "query": scene.probe, "target": scene.missing})


def control_tasks() -> list[ControlTask]:
    """Every task, cluster by cluster."""
    kinds = list(KINDS)
    return [
        *(lookup_task("recall", k, RECALL, f"Recall: {k}") for k in kinds),
        gap_task(),
        *(lookup_task("choose", k, CHOOSE, f"Choice: {k}") for k in kinds),
        *(presence_task(k, "presence_seen" if k in ("colour", "animal") else "presence") for k in kinds),
    ]


__all__ = ["KIND_OF", "ControlTask", "control_tasks"]
