"""Which templates a variant draws from: a task's own pools (seen, and held back for ``unseen_paraphrase``) and
donor pools of *other* tasks (``delusive_task``, ``misleading_related``).

``held_back`` (config key ``template.held_back_templates``) holds the last N non-inverted templates of each task
out of training and out of ``instruction`` scoring, so ``unseen_paraphrase`` scores phrasings no model trained
on. A template declared ``held_back`` is always in the unseen pool. A task with no more than N non-inverted
templates holds none back (it has no unseen pool).

A donor's template is filled with this row's fields *by position*: the donor's ``input_fields[i]`` reads this
task's ``input_fields[i]``. Donors therefore need as many input fields as the task, and templates that read only
those fields.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from flanlab.tasks.spec import TaskSpec, Template
from flanlab.templates.shuffled import answer_space

log = logging.getLogger(__name__)
Donor = tuple[TaskSpec, Template]


def unseen_pool(task: TaskSpec, held_back: int = 0) -> tuple[Template, ...]:
    """The templates ``unseen_paraphrase`` scores: declared held-back ones, then the last ``held_back``
    non-inverted ones (if the task has more than that)."""
    declared = task.unseen_templates()
    scored = task.scored_templates()
    held = scored[-held_back:] if held_back and len(scored) > held_back else ()
    return (*declared, *held)


def seen_pool(task: TaskSpec, held_back: int = 0, *, include_inverted: bool = False) -> tuple[Template, ...]:
    """The templates training and ``instruction`` scoring use: all but the unseen pool."""
    unseen = {t.id for t in unseen_pool(task, held_back)}
    return tuple(t for t in task.scored_templates(include_inverted) if t.id not in unseen)


def donor_templates(donor: TaskSpec, task: TaskSpec, held_back: int = 0) -> list[Template]:
    """The donor's seen templates that can take ``task``'s fields by position (same number of input fields,
    templates reading only those)."""
    if donor.name == task.name or len(donor.input_fields) != len(task.input_fields):
        return []
    return [t for t in seen_pool(donor, held_back) if t.fields() <= set(donor.input_fields)]


def delusive_donors(task: TaskSpec, specs: Sequence[TaskSpec], held_back: int = 0) -> list[Donor]:
    """Other tasks' templates with ``task``'s answer space; failing that, with as many options (logged)."""
    pool = [(d, t) for d in specs if answer_space(d) == answer_space(task) for t in donor_templates(d, task, held_back)]
    if not pool and task.is_classification:
        same_count = [(d, t) for d in specs if d.is_classification and d.options and task.options
                      and len(d.options) == len(task.options) for t in donor_templates(d, task, held_back)]
        if same_count:
            log.info("delusive_task: %s has no other task with its answer space; donors have as many options",
                     task.name)
        pool = same_count
    return pool


def related_donors(task: TaskSpec, specs: Sequence[TaskSpec], held_back: int = 0) -> list[Donor]:
    """Templates of tasks shaped like ``task`` (as many input fields) but with another answer space: a related
    task asked of this row. Failing that, any other task with as many input fields (logged)."""
    shaped = [(d, t) for d in specs for t in donor_templates(d, task, held_back)]
    pool = [(d, t) for d, t in shaped if answer_space(d) != answer_space(task)]
    if not pool and shaped:
        log.info("misleading_related: %s has no task of another answer space with its fields; donors share its "
                 "answer space", task.name)
        pool = shaped
    return pool


def remap(donor: TaskSpec, task: TaskSpec, row: Mapping) -> dict:
    """``row`` with the donor's input-field names bound to this task's fields, by position."""
    return {**row, **{d: row[f] for d, f in zip(donor.input_fields, task.input_fields, strict=True)}}
