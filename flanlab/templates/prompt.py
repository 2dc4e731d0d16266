"""Where a prompt is made: the ``Prompt`` a row becomes, filling a template with a row (``instruction_values``,
``fill``), and the main FLAN arm, ``instruction_prompt`` (one row under one of its task's templates), and the
template-free body (``plain_input``). The variants (``flanlab.templates.variants``, a registry) and the
prompt-semantics variants (``flanlab.templates.semantics``) all build on these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flanlab.errors import DataError
from flanlab.tasks.spec import TaskSpec, Template
from flanlab.templates.format import finish_input, join_fields, options_block


@dataclass(frozen=True)
class Prompt:
    """One rendered example: structured key plus the text the model sees.

    Identified by ``(task, variant, template_id, options_in_prompt)``; never by an encoded name.
    ``input`` never ends in whitespace; ``target`` carries no leading space (the model class adds
    any delimiter it needs).
    """

    task: str
    cluster: str
    variant: str
    template_id: str
    input: str
    target: str
    options: tuple[str, ...] | None = None
    label: int | None = None
    references: tuple[str, ...] = ()
    row_index: int = -1
    inverted: bool = False
    # The prompt-semantics variants (flanlab/templates/semantics.py): the task the prompt *states* when it is not
    # ``task``, and, within ``options``, the original task's answer and the stated task's answer. ``label`` is
    # the one that counts; None where a variant does not define them.
    stated_task: str | None = None
    original_label: int | None = None
    stated_label: int | None = None
    # Solved examples before the query (``flanlab.templates.fewshot``); 0 for a zero-shot prompt.
    shots: int = 0


def instruction_values(task: TaskSpec, row: Mapping[str, Any], options_text: str) -> dict[str, Any]:
    """What a task's own template is filled with: the row, its answer and the options text."""
    return {**row, "answer": task.references(row)[0], "options": options_text}


def fill(task: TaskSpec, template: Template, values: Mapping[str, Any], row_index: int) -> tuple[str, str]:
    """``template``'s input and target with ``values``, or a one-line error naming the missing or null field (a
    null never becomes the word ``None``: the bad-row rule drops such rows first, ``flanlab.tasks.rows``)."""
    null = next((f for f in template.fields() if f in values and values[f] is None), None)
    if null is not None:
        which = f"row {row_index}" if row_index >= 0 else "the row"
        raise DataError(f"task {task.name!r} template {template.id!r}: {which} has a null {null!r}, which would be "
                        "rendered as 'None'")
    try:
        return template.input.format(**values), template.target.format(**values)
    except KeyError as err:
        which = f"row {row_index}" if row_index >= 0 else "the row"
        raise DataError(f"task {task.name!r} template {template.id!r} names field {err}, which {which} lacks "
                        f"(it has {sorted(values)})") from None


def plain_input(task: TaskSpec, row: Mapping[str, Any], options_in_prompt: bool) -> str:
    body = join_fields(row, task.input_fields)
    options = task.row_options(row)
    if options and options_in_prompt:
        body = f"{body}\n{options_block(options)}"
    return body


def instruction_prompt(task: TaskSpec, row: Mapping[str, Any], template: Template, *, options_in_prompt: bool = True,
                       row_index: int = -1) -> Prompt:
    """One row under one of its task's templates (an inverted template is scored as generation)."""
    options = task.row_options(row)
    values = instruction_values(task, row, options_block(options) if options and options_in_prompt else "")
    text, target = fill(task, template, values, row_index)
    label, references = task.label_index(row), task.references(row)
    if template.inverted:
        # The task turned around: the target is row text, so it is scored as generation.
        options, label, references = None, None, (target,)
    return Prompt(
        task=task.name, cluster=task.cluster, variant="instruction", template_id=template.id,
        input=finish_input(text), target=target, options=options, label=label,
        references=references, row_index=row_index, inverted=template.inverted,
    )
