"""The ablation's independent variable: how a row becomes a model input.

* ``no_template``  - the row's input fields joined, plus the options block for classification;
* ``dataset_name`` - a tag with the task's display name, then the same fields;
* ``opaque_tag``   - the same with an opaque tag (``[task 417]``) in place of the name: a control for what a
  dataset name's words carry;
* ``instruction``  - one of the task's natural-language templates;
* ``shuffled_instruction`` (training only) - an instruction template of *another* task of the mixture with the
  same answer space, filled with this row's fields: instructions are present but carry no task signal.

For training, each row gets one template, assigned **round-robin by row index** over the task's
first ``num_templates`` templates (inverted ones only with ``template.train_inverted``). For scoring,
each row is rendered with every non-inverted template, and results are averaged over templates.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from flanlab.errors import DataError, unknown
from flanlab.tasks.spec import Prompt, TaskSpec, Template
from flanlab.templates.format import finish_input, join_fields, options_block

VARIANTS = ("no_template", "dataset_name", "instruction", "opaque_tag")
SHUFFLED = "shuffled_instruction"
TRAIN_VARIANTS = (*VARIANTS, SHUFFLED)
PLAIN_TEMPLATE_ID = "plain"


def check_variant(variant: str, key: str | None = None, *, training: bool = False) -> str:
    """Return ``variant`` if it is known (for training, or for scoring), else raise a one-line error."""
    valid = TRAIN_VARIANTS if training else VARIANTS
    if variant not in valid:
        if variant in TRAIN_VARIANTS:
            raise unknown("scoring variant (it is for training only)", variant, valid, key=key)
        raise unknown("template variant", variant, valid, key=key)
    return variant


def opaque_tag(task: TaskSpec) -> str:
    """A stable tag that names no words of the task: ``[task NNN]`` from the CRC-32 of its name."""
    return f"[task {zlib.crc32(task.name.encode()) % 1000:03d}]"


def _plain_input(task: TaskSpec, row: Mapping[str, Any], options_in_prompt: bool) -> str:
    body = join_fields(row, task.input_fields)
    options = task.row_options(row)
    if options and options_in_prompt:
        body = f"{body}\n{options_block(options)}"
    return body


def render(
    task: TaskSpec,
    row: Mapping[str, Any],
    variant: str,
    template: Template | None = None,
    *,
    options_in_prompt: bool = True,
    row_index: int = -1,
) -> Prompt:
    """Render one row under one variant (and, for ``instruction``, one template)."""
    check_variant(variant)
    references = task.references(row)
    answer = references[0]
    options = task.row_options(row)
    label = task.label_index(row)
    if variant == "instruction":
        if template is None:
            raise ValueError(f"task {task.name!r}: the instruction variant needs a template")
        values = {**row, "answer": answer, "options": options_block(options) if options and options_in_prompt else ""}
        try:
            text = template.input.format(**values)
            target = template.target.format(**values)
        except KeyError as err:
            which = f"row {row_index}" if row_index >= 0 else "the row"
            raise DataError(f"task {task.name!r} template {template.id!r} names field {err}, which {which} lacks "
                            f"(it has {sorted(row)})") from None
        if template.inverted:
            # The task turned around: the target is row text, so it is scored as generation.
            options, label, references = None, None, (target,)
        return Prompt(
            task=task.name, cluster=task.cluster, variant=variant, template_id=template.id,
            input=finish_input(text), target=target, options=options, label=label,
            references=references, row_index=row_index, inverted=template.inverted,
        )
    body = _plain_input(task, row, options_in_prompt)
    if variant == "dataset_name":
        body = f"[{task.display_name}]\n{body}"
    elif variant == "opaque_tag":
        body = f"{opaque_tag(task)}\n{body}"
    return Prompt(
        task=task.name, cluster=task.cluster, variant=variant, template_id=PLAIN_TEMPLATE_ID,
        input=finish_input(body), target=answer, options=options, label=label,
        references=references, row_index=row_index,
    )


def training_template(task: TaskSpec, row_index: int, num_templates: int | None = None, *,
                      train_inverted: bool = False) -> Template:
    """The template a training row gets: round-robin by row index over the first ``num_templates``.

    Without ``train_inverted`` the pool holds the non-inverted templates only (the first N of those).
    """
    pool = task.templates if train_inverted else task.scored_templates()
    pool = pool[:num_templates] if num_templates else pool
    if not pool:
        raise DataError(f"task {task.name!r} has no non-inverted template to train with "
                        "(config key `template.train_inverted`)")
    return pool[row_index % len(pool)]


def render_for_training(
    task: TaskSpec, row: Mapping[str, Any], row_index: int, variant: str,
    *, num_templates: int | None = None, options_in_prompt: bool = True, train_inverted: bool = False,
    donors: Sequence[tuple[str, Template]] | None = None,
) -> Prompt:
    """Render a training row: one prompt, the template chosen round-robin (inverted ones only if asked).

    ``shuffled_instruction`` takes the template from ``donors`` (``(task, template)`` pairs of other tasks,
    :func:`flanlab.templates.shuffled.donor_pools`), round-robin by row index.
    """
    if variant == SHUFFLED:
        if not donors:
            raise DataError(f"task {task.name!r}: the shuffled_instruction variant needs donor templates")
        donor, template = donors[row_index % len(donors)]
        prompt = render(task, row, "instruction", template, options_in_prompt=options_in_prompt, row_index=row_index)
        return dataclasses.replace(prompt, variant=SHUFFLED, template_id=f"{donor}:{template.id}")
    template = (training_template(task, row_index, num_templates, train_inverted=train_inverted)
                if variant == "instruction" else None)
    return render(task, row, variant, template, options_in_prompt=options_in_prompt, row_index=row_index)


def render_for_scoring(
    task: TaskSpec, row: Mapping[str, Any], row_index: int, variant: str,
    *, options_in_prompt: bool = True, include_inverted: bool = False,
) -> Iterator[Prompt]:
    """Render an evaluation row: every scored template for ``instruction``, one prompt otherwise."""
    if variant != "instruction":
        yield render(task, row, variant, options_in_prompt=options_in_prompt, row_index=row_index)
        return
    for template in task.scored_templates(include_inverted):
        yield render(task, row, variant, template, options_in_prompt=options_in_prompt, row_index=row_index)
