"""What a task *is*: its fields, answer options, display name and instruction templates.

A task is plain data. Rows are dicts with named fields, like a Hugging Face dataset's rows.
Templates are Python format strings over those fields plus two reserved placeholders:

* ``{options}`` - the rendered answer-options block (classification tasks only);
* ``{answer}`` - the answer text (used by target patterns and by inverted templates).
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flanlab.errors import DataError

TaskKind = Literal["classification", "generation"]
OPTIONS = "options"
ANSWER = "answer"
RESERVED = frozenset({OPTIONS, ANSWER})


def placeholders(pattern: str) -> list[str]:
    """Names of the ``{field}`` placeholders in a format string, in order."""
    return list(_placeholders(pattern))


@functools.lru_cache(maxsize=4096)
def _placeholders(pattern: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None)


@dataclass(frozen=True)
class Template:
    """One natural-language instruction template.

    ``input`` and ``target`` are format strings. An *inverted* template turns the task around
    (e.g. "write a sentence with this sentiment"); inverted templates train but are not scored
    by default, since their target is not the task's answer.
    """

    id: str
    input: str
    target: str = "{answer}"
    inverted: bool = False
    # Held back from training, scored only by the ``unseen_paraphrase`` variant (``flanlab.templates.pools``).
    held_back: bool = False

    def fields(self) -> set[str]:
        """Row fields this template reads (reserved placeholders excluded)."""
        return (set(placeholders(self.input)) | set(placeholders(self.target))) - RESERVED


def layout_problem(template: Template, classification: bool) -> str | None:
    """How ``template`` breaks the layout rule, or None. The rule: a classification template that is not inverted
    ends with a line holding only ``{options}`` (its one ``{options}``) and has the target ``{answer}``;
    generation and inverted templates have no ``{options}``."""
    count = placeholders(template.input).count(OPTIONS) + placeholders(template.target).count(OPTIONS)
    if not classification or template.inverted:
        if count:
            return "{options} belongs only in the last line of a classification template that is not inverted"
        return None
    if count != 1 or not template.input.endswith("\n{" + OPTIONS + "}"):
        return "a classification template must end with a line holding only {options} (its one {options})"
    if template.target != "{" + ANSWER + "}":
        return f"a classification template's target must be {{answer}}, got {template.target!r}"
    return None


@dataclass(frozen=True)
class TaskSpec:
    """A dataset phrased as a task.

    ``input_fields`` are the fields, in order, that the template-free variants join.
    Classification tasks name their answer options either as a fixed ``options`` tuple with the
    row's ``label_field`` holding an index into it, or as ``options_field`` (a per-row list of
    options) with ``label_field`` an index into that list. Generation tasks read the answer from
    ``target_field``; a list there means several acceptable references (the first trains).
    """

    name: str
    cluster: str
    display_name: str
    kind: TaskKind
    input_fields: tuple[str, ...]
    templates: tuple[Template, ...]
    metric: str = "accuracy"
    options: tuple[str, ...] | None = None
    options_field: str | None = None
    label_field: str = "label"
    target_field: str = "target"
    train_split: str = "train"
    eval_split: str = "validation"
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # Answer types of a mixed option set, e.g. {"yes_no": ("yes", "no")}: an option listed under a type has that
    # type, any other option the type ``"other"``. Empty: every option has one type (type accuracy is then 1).
    answer_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Where the rows come from (hub-backed catalogues): ``load_dataset(hub_path, hub_config, revision=hub_revision,
    # data_dir=hub_data_dir)``, and an optional function mapping one raw hub row to the template fields above (None:
    # the raw row already has them).
    hub_path: str | None = None
    hub_config: str | None = None
    hub_revision: str | None = None
    hub_data_dir: str | None = None
    preprocess: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    # This task's answer text for *any* row with its input fields (None where it has none): lets the
    # ``delusive_task`` variant say what the stated task would answer (generated catalogues only).
    solver: Callable[[Mapping[str, Any]], str | None] | None = field(default=None, compare=False)
    # Fields a prompt reads that may hold empty text (never null), e.g. an instruction's optional context. Any other
    # field a prompt reads makes a row unusable when it is null or empty (``flanlab.tasks.rows``).
    optional_fields: tuple[str, ...] = ()
    # Inverted templates kept apart from ``templates`` (input inversion, Flan 2022): they train only under
    # ``template.train_inverted`` and are never scored or seen by a config-built tokenizer's corpus, so adding them
    # to a suite changes no other arm (``flanlab.templates.variants.training_template``).
    inversions: tuple[Template, ...] = ()

    @property
    def is_classification(self) -> bool:
        return self.kind == "classification"

    def scored_templates(self, include_inverted: bool = False) -> tuple[Template, ...]:
        """Templates used for zero-shot scoring: the non-inverted ones unless asked otherwise (held-back ones
        never: they are the ``unseen_paraphrase`` pool)."""
        return tuple(t for t in self.templates if (include_inverted or not t.inverted) and not t.held_back)

    def unseen_templates(self) -> tuple[Template, ...]:
        """The held-back pool: templates never used in training, scored by ``unseen_paraphrase`` only."""
        return tuple(t for t in self.templates if t.held_back)

    def row_options(self, row: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The answer options for a row, or None for generation tasks."""
        if not self.is_classification:
            return None
        if self.options_field is not None:
            return tuple(str(o) for o in row[self.options_field])
        return self.options

    def references(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        """All acceptable answers for a row; the first one is the training target."""
        if self.is_classification:
            options = self.row_options(row)
            assert options is not None
            return (options[int(row[self.label_field])],)
        value = row[self.target_field]
        if isinstance(value, str):
            return (value,)
        return tuple(str(v) for v in value)

    def label_index(self, row: Mapping[str, Any]) -> int | None:
        """Index of the correct option, or None for generation tasks."""
        return int(row[self.label_field]) if self.is_classification else None

    def answer_type(self, option: str) -> str:
        """The answer type of an option text (see ``answer_types``)."""
        for name, members in self.answer_types.items():
            if option in members:
                return name
        return "other"

    def check_layout(self, source: str) -> None:
        """Raise a one-line DataError naming ``source`` (a file or catalogue), the task and the template for the
        first template that breaks the layout rule (:func:`layout_problem`)."""
        for tpl in self.templates:
            if problem := layout_problem(tpl, self.is_classification):
                raise DataError(f"{source}: task {self.name!r} template {tpl.id!r}: {problem}")

    def row_fields(self) -> set[str]:
        """Fields a row must carry for this task."""
        needed = set(self.input_fields)
        needed.add(self.label_field if self.is_classification else self.target_field)
        if self.options_field:
            needed.add(self.options_field)
        return needed


def validate_task(task: TaskSpec, rows: Sequence[Mapping[str, Any]] = ()) -> None:
    """Check a task's structure (and optionally sample rows); raise ValueError naming the problem."""
    if not task.templates:
        raise ValueError(f"task {task.name!r} has no templates")
    ids = [t.id for t in task.templates]
    if len(set(ids)) != len(ids):
        raise ValueError(f"task {task.name!r} has duplicate template ids")
    if task.is_classification and task.options is None and task.options_field is None:
        raise ValueError(f"classification task {task.name!r} has neither options nor options_field")
    for row_no, row in enumerate(rows):
        missing = task.row_fields() - set(row)
        for tpl in task.templates:
            missing |= tpl.fields() - set(row)
        if missing:
            raise ValueError(f"task {task.name!r} row {row_no} lacks fields {sorted(missing)}")
