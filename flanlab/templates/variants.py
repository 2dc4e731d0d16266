"""The ablation's independent variable: how a row becomes a model input.

FLAN's variants and their controls:

* ``no_template``  - the row's input fields joined, plus the options block for classification;
* ``dataset_name`` - a tag with the task's display name, then the same fields;
* ``opaque_tag``   - the same with an opaque tag (``[task 417]``) in place of the name: a control for what a
  dataset name's words carry;
* ``instruction``  - one of the task's natural-language templates;
* ``shuffled_instruction`` (training only) - an instruction template of *another* task of the mixture with the
  same answer space, filled with this row's fields: instructions are present but carry no task signal.

The prompt-semantics variants (``flanlab.templates.semantics``, docs/variants.md): ``null``, ``irrelevant``,
``misleading_related``, ``misleading_unrelated``, ``delusive_task``, ``simplified``, ``negated``,
``verbalizer_reversed``, ``verbalizer_arbitrary``, ``no_options`` and ``unseen_paraphrase`` (scoring only).

For training, each row gets one template, assigned **round-robin by row index** over the task's
first ``num_templates`` seen templates (inverted ones only with ``template.train_inverted``). For scoring,
the template variants render each row with every seen non-inverted template, and results are averaged over
templates; ``unseen_paraphrase`` renders it with every held-back one (``flanlab.templates.pools``).
"""

from __future__ import annotations

import dataclasses
import logging
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flanlab.errors import ConfigError, DataError, unknown
from flanlab.tasks.spec import TaskSpec, Template
from flanlab.templates import cot, semantics
from flanlab.templates.format import finish_input
from flanlab.templates.pools import Donor, delusive_donors, related_donors, seen_pool, unseen_pool
from flanlab.templates.prompt import Prompt, instruction_prompt, plain_input

log = logging.getLogger(__name__)

FLAN_VARIANTS = ("no_template", "dataset_name", "instruction", "opaque_tag")
# The dataset-name tag without the task type FLAN wrote before the name (``[RTE]`` instead of ``[Natural language
# inference: RTE]``; the same where a catalogue gives no task type).
BARE_NAME = "bare_dataset_name"
PLAIN_SEMANTIC = ("null_prompt", "irrelevant", "misleading_unrelated", "simplified")
DONOR_VARIANTS = ("misleading_related", "delusive_task")
# Rendered with each of the task's seen templates, like ``instruction``.
TEMPLATE_VARIANTS = ("instruction", "no_options", "negated", "verbalizer_reversed", "verbalizer_arbitrary")
UNSEEN = "unseen_paraphrase"
SEMANTIC_VARIANTS = (*PLAIN_SEMANTIC, *DONOR_VARIANTS, *TEMPLATE_VARIANTS[1:], UNSEEN)
VARIANTS = (*FLAN_VARIANTS, BARE_NAME, *SEMANTIC_VARIANTS)
# Chain of thought (flanlab/templates/cot.py, docs/cot.md): a scoring variant; in training, rows are chosen for it by
# mixture.cot_fraction, so it is not a training arm.
SCORING_VARIANTS = (*VARIANTS, cot.COT)
SHUFFLED = "shuffled_instruction"
TRAIN_VARIANTS = (*(v for v in VARIANTS if v != UNSEEN), SHUFFLED)
# Variants under which the answer that counts is the *stated* task's, and whose prompts record both answers.
OVERRIDE_VARIANTS = ("delusive_task", "negated", "verbalizer_reversed")
PLAIN_TEMPLATE_ID = "plain"


def check_variant(variant: str, key: str | None = None, *, training: bool = False) -> str:
    """Return ``variant`` if it is known (for training, or for scoring), else raise a one-line error."""
    if training and variant == cot.COT:
        raise ConfigError("template.train_variant=cot is not a training arm: CoT training rows are set by "
                          "mixture.cot_fraction (docs/cot.md)")
    valid = TRAIN_VARIANTS if training else SCORING_VARIANTS
    if variant is None:
        where = f" (config key `{key}`)" if key else ""
        raise ConfigError(f"a template variant is empty{where}: YAML reads a bare null as nothing; the variant "
                          "with no words at all is null_prompt")
    if variant not in valid:
        if variant in TRAIN_VARIANTS:
            raise unknown("scoring variant (it is for training only)", variant, valid, key=key)
        if variant in SCORING_VARIANTS:
            raise unknown("training variant (it is for scoring only: its templates never train)", variant, valid,
                          key=key)
        raise unknown("template variant", variant, valid, key=key)
    return variant


@dataclass
class VariantContext:
    """What some variants need beyond the row: the other tasks (donor instructions) and how many templates per
    task are held back for ``unseen_paraphrase``. Donor pools are computed once per task."""

    specs: Sequence[TaskSpec] = ()
    held_back: int = 0
    _donors: dict[tuple[str, str], list[Donor]] = field(default_factory=dict, repr=False)

    def donors(self, task: TaskSpec, variant: str) -> list[Donor]:
        key = (task.name, variant)
        if key not in self._donors:
            find = delusive_donors if variant == "delusive_task" else related_donors
            self._donors[key] = find(task, self.specs, self.held_back)
            if not self._donors[key]:
                log.warning("%s: task %s has no donor task with as many input fields; it is asked an unrelated "
                            "question instead", variant, task.name)
        return self._donors[key]


NO_CONTEXT = VariantContext()


def name_tag(task: TaskSpec) -> str:
    """The dataset-name tag as FLAN wrote it: the task type, then the dataset (``Natural language inference: RTE``);
    the display name alone where the catalogue gives no task type (the generated suites name the kind already)."""
    task_type = task.metadata.get("task_type")
    return f"{task_type}: {task.display_name}" if task_type else task.display_name


def opaque_tag(task: TaskSpec) -> str:
    """A stable tag that names no words of the task: ``[task NNN]`` from the CRC-32 of its name."""
    return f"[task {zlib.crc32(task.name.encode()) % 1000:03d}]"


def _template_variant(task: TaskSpec, row: Mapping[str, Any], variant: str, template: Template,
                      options_in_prompt: bool, row_index: int) -> Prompt:
    """A variant built on one of the task's own templates. Generation tasks have no options to hide, negate or
    relabel: under those variants they render as ``instruction`` (with the variant's name)."""
    if task.is_classification and not template.inverted:
        if variant == "negated":
            return semantics.negated(task, row, template, row_index, options_in_prompt)
        if variant.startswith("verbalizer_"):
            return semantics.verbalized(task, row, template, variant, row_index, options_in_prompt)
    shown = options_in_prompt and variant != "no_options"
    prompt = instruction_prompt(task, row, template, options_in_prompt=shown, row_index=row_index)
    return dataclasses.replace(prompt, variant=variant)


Renderer = Callable[[TaskSpec, Mapping[str, Any], Template | None, bool, int, "VariantContext", str], Prompt]


def _needs_template(task: TaskSpec, template: Template | None, variant: str) -> Template:
    if template is None:
        raise ValueError(f"task {task.name!r}: the {variant} variant needs a template")
    return template


def _cot(task: TaskSpec, row: Mapping[str, Any], template: Template | None, options_in_prompt: bool, row_index: int,
         context: VariantContext, variant: str) -> Prompt:
    base = instruction_prompt(task, row, _needs_template(task, template, variant),
                              options_in_prompt=options_in_prompt, row_index=row_index)
    return cot.cot_prompt(base, task, row)


def _with_template(task: TaskSpec, row: Mapping[str, Any], template: Template | None, options_in_prompt: bool,
                   row_index: int, context: VariantContext, variant: str) -> Prompt:
    return _template_variant(task, row, variant, _needs_template(task, template, variant), options_in_prompt,
                             row_index)


def _donor(task: TaskSpec, row: Mapping[str, Any], template: Template | None, options_in_prompt: bool,
           row_index: int, context: VariantContext, variant: str) -> Prompt:
    donors = context.donors(task, variant)
    if donors:
        return semantics.donor_prompt(task, row, variant, donors[max(row_index, 0) % len(donors)], row_index,
                                      options_in_prompt)
    unrelated = semantics.plain_variant(task, row, "misleading_unrelated", row_index, options_in_prompt)
    return dataclasses.replace(unrelated, variant=variant, template_id=f"{variant}:unrelated")


def _plain_semantic(task: TaskSpec, row: Mapping[str, Any], template: Template | None, options_in_prompt: bool,
                    row_index: int, context: VariantContext, variant: str) -> Prompt:
    return semantics.plain_variant(task, row, variant, row_index, options_in_prompt)


def _template_free(task: TaskSpec, row: Mapping[str, Any], template: Template | None, options_in_prompt: bool,
                   row_index: int, context: VariantContext, variant: str) -> Prompt:
    """``no_template``, ``dataset_name`` and ``opaque_tag``: the fields, after a tag for the last two."""
    body = plain_input(task, row, options_in_prompt)
    if variant == "no_template" and task.metadata.get("no_template") == "response_only":
        body = ""  # response-only tuning (instruction-response sources, docs/cot.md)
    if variant == "dataset_name":
        body = f"[{name_tag(task)}]\n{body}"
    elif variant == BARE_NAME:
        body = f"[{task.display_name}]\n{body}"
    elif variant == "opaque_tag":
        body = f"{opaque_tag(task)}\n{body}"
    references = task.references(row)
    return Prompt(
        task=task.name, cluster=task.cluster, variant=variant, template_id=PLAIN_TEMPLATE_ID,
        input=finish_input(body), target=references[0], options=task.row_options(row), label=task.label_index(row),
        references=references, row_index=row_index,
    )


# Every scoring variant and the renderer that makes its prompt (the training-only shuffled_instruction renders
# through ``instruction``, in ``render_for_training``).
RENDERERS: dict[str, Renderer] = {
    cot.COT: _cot,
    **dict.fromkeys((*TEMPLATE_VARIANTS, UNSEEN), _with_template),
    **dict.fromkeys(DONOR_VARIANTS, _donor),
    **dict.fromkeys(PLAIN_SEMANTIC, _plain_semantic),
    **dict.fromkeys(("no_template", "dataset_name", BARE_NAME, "opaque_tag"), _template_free),
}


def render(
    task: TaskSpec,
    row: Mapping[str, Any],
    variant: str,
    template: Template | None = None,
    *,
    options_in_prompt: bool = True,
    row_index: int = -1,
    context: VariantContext = NO_CONTEXT,
) -> Prompt:
    """Render one row under one variant (and, for the template variants, one template), by ``RENDERERS``."""
    check_variant(variant)
    return RENDERERS[variant](task, row, template, options_in_prompt, row_index, context, variant)


def inverted_row(task: TaskSpec, row_index: int, pool_size: int, inversions: int) -> bool:
    """Whether a training row takes an inverted template under ``template.train_inverted``: a seeded share of
    inversions / (inversions + templates) of the rows. Every other row keeps the template it has without inversion,
    so the inversion arm differs from the zero-shot arm in its inverted rows only."""
    share = inversions + pool_size
    return zlib.crc32(f"inversion/{task.name}/{row_index}".encode()) % share < inversions


def inversion_pool(task: TaskSpec, held_back: int = 0) -> tuple[Template, ...]:
    """The task's inverted templates that may train: those among its templates (not held back), then its
    kept-apart inversions (``TaskSpec.inversions``)."""
    seen = seen_pool(task, held_back, include_inverted=True)
    return (*(t for t in seen if t.inverted), *task.inversions)


def training_template(task: TaskSpec, row_index: int, num_templates: int | None = None, *,
                      train_inverted: bool = False, held_back: int = 0) -> Template:
    """The template a training row gets: round-robin by row index over the first ``num_templates`` seen
    non-inverted ones; under ``train_inverted``, a seeded share of the rows takes an inverted one instead
    (``inverted_row``). Held-back templates (``flanlab.templates.pools``) never train.
    """
    pool = seen_pool(task, held_back)
    pool = pool[:num_templates] if num_templates else pool
    inverted = inversion_pool(task, held_back) if train_inverted else ()
    if inverted and (not pool or inverted_row(task, row_index, len(pool), len(inverted))):
        return inverted[row_index % len(inverted)]
    if not pool:
        raise DataError(f"task {task.name!r} has no non-inverted template to train with "
                        "(config key `template.train_inverted`)")
    return pool[row_index % len(pool)]


def render_for_training(
    task: TaskSpec, row: Mapping[str, Any], row_index: int, variant: str,
    *, num_templates: int | None = None, options_in_prompt: bool = True, train_inverted: bool = False,
    donors: Sequence[tuple[str, Template]] | None = None, context: VariantContext = NO_CONTEXT,
) -> Prompt:
    """Render a training row: one prompt, the template chosen round-robin (inverted ones only if asked).

    ``shuffled_instruction`` takes the template from ``donors`` (``(task, template)`` pairs of other tasks,
    :func:`flanlab.templates.shuffled.donor_pools`), round-robin by row index.
    """
    if variant != cot.COT:  # CoT rows of the mixture (mixture.cot_fraction) render through here too
        check_variant(variant, training=True)
    if variant == SHUFFLED:
        if not donors:
            raise DataError(f"task {task.name!r}: the shuffled_instruction variant needs donor templates")
        donor, template = donors[row_index % len(donors)]
        prompt = render(task, row, "instruction", template, options_in_prompt=options_in_prompt, row_index=row_index)
        return dataclasses.replace(prompt, variant=SHUFFLED, template_id=f"{donor}:{template.id}")
    template = (training_template(task, row_index, num_templates, train_inverted=train_inverted,
                                  held_back=context.held_back) if variant in (*TEMPLATE_VARIANTS, cot.COT) else None)
    return render(task, row, variant, template, options_in_prompt=options_in_prompt, row_index=row_index,
                  context=context)


def render_for_scoring(
    task: TaskSpec, row: Mapping[str, Any], row_index: int, variant: str,
    *, options_in_prompt: bool = True, include_inverted: bool = False, context: VariantContext = NO_CONTEXT,
) -> Iterator[Prompt]:
    """Render an evaluation row: every seen template for the template variants, every held-back one for
    ``unseen_paraphrase``, one prompt otherwise."""
    if variant == UNSEEN:
        templates: Sequence[Template] = unseen_pool(task, context.held_back)
    elif variant in (*TEMPLATE_VARIANTS, cot.COT):
        templates = seen_pool(task, context.held_back, include_inverted=include_inverted and variant == "instruction")
    else:
        yield render(task, row, variant, options_in_prompt=options_in_prompt, row_index=row_index, context=context)
        return
    for template in templates:
        yield render(task, row, variant, template, options_in_prompt=options_in_prompt, row_index=row_index,
                     context=context)
