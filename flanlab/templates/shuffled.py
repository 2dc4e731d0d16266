"""Donor templates for the ``shuffled_instruction`` training arm.

Each training row of task T is rendered with an instruction template of another task T' of the mixture that has
the same answer space (so the target stays a sensible answer to *some* instruction) and whose template fields the
row has. Instructions are then present in training but say nothing about which task a row belongs to: if the
instruction arm's advantage runs through the instructions' meaning, this arm falls to the no-template level.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flanlab.tasks.spec import TaskSpec, Template

log = logging.getLogger(__name__)


def answer_space(spec: TaskSpec) -> tuple:
    """What answers a task gives: ``metadata["answer_space"]`` if set, else its option list, option field or
    ``generation``."""
    if "answer_space" in spec.metadata:
        return ("declared", spec.metadata["answer_space"])
    if not spec.is_classification:
        return ("generation",)
    if spec.options is not None:
        return ("options", tuple(spec.options))
    return ("options_field", spec.options_field)


def donor_pools(specs: Sequence[TaskSpec], sample_rows: Mapping[str, Mapping[str, Any]]) -> dict[str, list]:
    """Per task: ``(donor task, template)`` pairs from *other* tasks with its answer space whose non-inverted
    templates only name fields that ``sample_rows[task]`` has. A task with no such donor keeps its own
    templates (logged), so the arm still trains it."""
    out: dict[str, list[tuple[str, Template]]] = {}
    for spec in specs:
        fields = set(sample_rows[spec.name])
        pool = [(other.name, t) for other in specs if other.name != spec.name
                and answer_space(other) == answer_space(spec)
                for t in other.scored_templates() if t.fields() <= fields]
        if not pool:
            log.warning("shuffled_instruction: task %s has no other task with its answer space; it keeps its "
                        "own instructions", spec.name)
            pool = [(spec.name, t) for t in spec.scored_templates()]
        out[spec.name] = pool
    return out
