"""The prompt-semantics variants: what a tuned model does when the words of the prompt change but the row, its
options and its gold answer do not (docs/variants.md).

Each renderer takes one row and returns one ``Prompt``. Options are always ranked, whether shown or not. Three
variants change which option counts, and record both answers in the prompt (``original_label``,
``stated_label``): ``negated`` (the stated task wants a wrong option), the two verbalizers (the answer words are
mapped). ``delusive_task`` states another task; ``stated_label`` is that task's answer where its ``solver`` can
say, while ``label`` stays the original answer.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from flanlab.errors import DataError
from flanlab.tasks.spec import TaskSpec, Template
from flanlab.templates import phrases
from flanlab.templates.format import finish_input, join_fields, options_block
from flanlab.templates.pools import Donor, remap
from flanlab.templates.prompt import Prompt, fill, instruction_values

PLAIN_IDS = {"null_prompt": "null_prompt", "irrelevant": "irrelevant", "misleading_unrelated": "unrelated",
             "simplified": "simplified"}


def _base(task: TaskSpec, row: Mapping[str, Any], variant: str, template_id: str, text: str,
          row_index: int, **changes: Any) -> Prompt:
    """A prompt of this row: its options, gold label and references, with ``changes`` applied."""
    prompt = Prompt(task=task.name, cluster=task.cluster, variant=variant, template_id=template_id,
                    input=finish_input(text), target=task.references(row)[0], options=task.row_options(row),
                    label=task.label_index(row), references=task.references(row), row_index=row_index)
    return dataclasses.replace(prompt, **changes)


def plain_variant(task: TaskSpec, row: Mapping[str, Any], variant: str, row_index: int,
                  options_in_prompt: bool = True) -> Prompt:
    """``null``, ``irrelevant``, ``misleading_unrelated`` or ``simplified``: the fields with fixed prose."""
    options = task.row_options(row)
    shown = options_block(options) if options and options_in_prompt else ""
    fields = join_fields(row, task.input_fields)
    if variant == "null_prompt":  # the field values only: no layout, no words, no options
        text = " ".join(str(row[f]) for f in task.input_fields)
    elif variant == "irrelevant":
        text = "\n".join(p for p in (phrases.IRRELEVANT[row_index % len(phrases.IRRELEVANT)], fields, shown) if p)
    elif variant == "misleading_unrelated":
        text = "\n".join(p for p in (fields, phrases.UNRELATED[row_index % len(phrases.UNRELATED)], shown) if p)
    else:  # simplified: only the answer space
        space = phrases.ANSWER_SPACE.format(answers=", ".join(options)) if options else phrases.ANSWER_FREE
        text = f"{fields}\n{space}"
    return _base(task, row, variant, PLAIN_IDS[variant], text, row_index)


def donor_prompt(task: TaskSpec, row: Mapping[str, Any], variant: str, donor: Donor, row_index: int,
                 options_in_prompt: bool = True) -> Prompt:
    """``delusive_task`` / ``misleading_related``: the donor task's instruction filled with this row's fields
    and shown this row's options (appended when the donor template has no options line)."""
    spec, template = donor
    options = task.row_options(row)
    block = options_block(options) if options and options_in_prompt else ""
    mapped = remap(spec, task, row)
    text, _ = fill(spec, template, {**mapped, "answer": task.references(row)[0], "options": block}, row_index)
    if block and "{options}" not in template.input:
        text = f"{text.rstrip()}\n{block}"
    changes: dict[str, Any] = {"stated_task": spec.name, "original_label": task.label_index(row)}
    if variant == "delusive_task" and options and spec.solver is not None:
        stated = spec.solver(mapped)
        changes["stated_label"] = options.index(stated) if stated in options else None
    return _base(task, row, variant, variant, text, row_index, **changes)


def negation_distractor(task: TaskSpec, options: Sequence[str], label: int, row_index: int) -> int:
    """The wrong option a ``negated`` prompt offers: one of the gold's answer type if there is one (``no`` for
    ``yes``), else any other; chosen by a hash of task and row, so every model sees the same one."""
    others = [i for i in range(len(options)) if i != label]
    typed = [i for i in others if task.answer_type(options[i]) == task.answer_type(options[label])]
    pool = typed or others
    return pool[zlib.crc32(f"{task.name}:{row_index}".encode()) % len(pool)]


def negated(task: TaskSpec, row: Mapping[str, Any], template: Template, row_index: int,
            options_in_prompt: bool = True) -> Prompt:
    """The instruction asked the other way round, between the gold and one wrong option: the wrong one counts."""
    options, label = task.row_options(row), task.label_index(row)
    if not options or label is None or len(options) < 2:
        raise DataError(f"task {task.name!r}: the negated variant needs at least two options")
    wrong = negation_distractor(task, options, label, row_index)
    pair = sorted((label, wrong))
    shown = tuple(options[i] for i in pair)
    values = instruction_values(task, row, options_block(shown) if options_in_prompt else "")
    text, _ = fill(task, template, values, row_index)
    return _base(task, row, "negated", template.id, f"{phrases.NEGATION}\n{text}", row_index, options=shown,
                 label=pair.index(wrong), target=options[wrong], references=(options[wrong],),
                 original_label=pair.index(label), stated_label=pair.index(wrong))


def rotated_words(task: TaskSpec, options: Sequence[str]) -> tuple[str, ...]:
    """The ``verbalizer_reversed`` words: each option written as the next option of its answer type, cyclically
    (two of a type swap: ``yes`` and ``no``). No option keeps its word unless it is alone in its type."""
    by_type: dict[str, list[int]] = {}
    for i, option in enumerate(options):
        by_type.setdefault(task.answer_type(option), []).append(i)
    shown = list(options)
    for members in by_type.values():
        for j, i in enumerate(members):
            shown[i] = options[members[(j + 1) % len(members)]]
    return tuple(shown)


def verbalized(task: TaskSpec, row: Mapping[str, Any], template: Template, variant: str, row_index: int,
               options_in_prompt: bool = True) -> Prompt:
    """The instruction with the answer words replaced, the mapping stated before the options.

    ``verbalizer_reversed``: option *i* is written as another option of its answer type (``rotated_words``:
    ``yes`` and ``no`` swap); ``verbalizer_arbitrary``: as a made-up code word. The gold's new word counts; for
    the reversed verbalizer, the gold's own word (now meaning another answer) is the original task's answer."""
    options, label = task.row_options(row), task.label_index(row)
    if not options or label is None:
        raise DataError(f"task {task.name!r}: the {variant} variant needs options")
    if variant == "verbalizer_reversed":
        shown = rotated_words(task, options)
        pairs = "; ".join(phrases.SWAP_PAIR.format(shown=s, meant=m) for s, m in zip(shown, options, strict=True)
                          if s != m)
        mapping = phrases.SWAPPED.format(pairs=pairs)
        original: int | None = shown.index(options[label])
    else:
        shown = tuple(phrases.code_word(i) for i in range(len(options)))
        mapping = phrases.CODED.format(pairs=", ".join(phrases.CODE_PAIR.format(shown=s, meant=m)
                                                       for s, m in zip(shown, options, strict=True)))
        original = None
    block = f"{mapping}\n{options_block(shown)}" if options_in_prompt else mapping
    text, _ = fill(task, template, instruction_values(task, row, block), row_index)
    if "{options}" not in template.input:
        text = f"{text.rstrip()}\n{block}"
    return _base(task, row, variant, template.id, text, row_index, options=shown, target=shown[label],
                 references=(shown[label],), original_label=original, stated_label=label)
