"""The chain-of-thought (CoT) template family: the task's own template, a fixed request to reason first, and a
target made of the row's rationale, a fixed answer marker and the answer.

``cot`` is a template variant (rendered with each of the task's seen templates, like ``instruction``). In
training it applies to rows that carry a rationale (``TaskSpec.metadata["rationale_field"]``), chosen by
``mixture.cot_fraction`` (``flanlab.data.cot_mix``). In scoring it is a generation prompt for any task: the model
writes freely, and ``flanlab.scoring.cot`` reads the answer after the marker (docs/cot.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flanlab.tasks.spec import TaskSpec
from flanlab.templates.prompt import Prompt

COT = "cot"
# Fixed prose, written for this project.
TRIGGER = "Reason it out one step at a time, then answer."
MARKER = "So the answer is"
RATIONALE_KEY = "rationale_field"


def rationale_field(task: TaskSpec) -> str | None:
    """The row field holding a task's rationale, or None for tasks without one."""
    value = task.metadata.get(RATIONALE_KEY) if task.metadata else None
    return str(value) if value else None


def has_rationale(task: TaskSpec) -> bool:
    return rationale_field(task) is not None


def cot_target(rationale: str | None, answer: str) -> str:
    """``<rationale> So the answer is <answer>`` (just the marker and the answer without a rationale)."""
    head = f"{rationale.strip()} " if rationale and rationale.strip() else ""
    return f"{head}{MARKER} {answer}"


def cot_prompt(base: Prompt, task: TaskSpec, row: Mapping[str, Any]) -> Prompt:
    """Turn an ``instruction`` prompt into its CoT form: the trigger line after the template, a free-text
    target (rationale, marker, answer), no options to rank; the references stay the task's answers."""
    answer = base.references[0] if base.references else ""
    field = rationale_field(task)
    rationale = str(row[field]) if field and row.get(field) else None
    return dataclasses.replace(base, variant=COT, input=f"{base.input}\n{TRIGGER}",
                               target=cot_target(rationale, answer), options=None, label=None)
