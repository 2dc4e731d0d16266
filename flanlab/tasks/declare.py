"""Task declarations, one vocabulary for every built-in catalogue (the FLAN catalogue, the world suite, the
positive control): template constructors (``tpl``, ``inv``) and task constructors (``classification``,
``generation``). Keyword arguments beyond the named ones are ``TaskSpec`` fields (``answer_types``, ``solver``,
``metadata``, ``hub_path`` ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flanlab.tasks.spec import TaskSpec, Template


def tpl(template_id: str, text: str, target: str = "{answer}") -> Template:
    """A template whose target is, by default, the answer."""
    return Template(id=template_id, input=text, target=target)


def inv(template_id: str, text: str, target: str) -> Template:
    """An inverted template: the task turned around (the answer is in the input, a row field is the target); it
    trains but is not scored by default."""
    return Template(id=template_id, input=text, target=target, inverted=True)


def classification(name: str, cluster: str, display_name: str, input_fields: Sequence[str],
                   templates: Sequence[Template], *, description: str = "", options: Sequence[str] | None = None,
                   options_field: str | None = None, **fields: Any) -> TaskSpec:
    """A classification task scored by rank classification over its options (accuracy unless ``metric`` says)."""
    return TaskSpec(name=name, cluster=cluster, display_name=display_name, kind="classification",
                    input_fields=tuple(input_fields), templates=tuple(templates), description=description,
                    metric=fields.pop("metric", "accuracy"), options=tuple(options) if options is not None else None,
                    options_field=options_field, **fields)


def generation(name: str, cluster: str, display_name: str, input_fields: Sequence[str],
               templates: Sequence[Template], *, description: str = "", metric: str = "exact_match",
               **fields: Any) -> TaskSpec:
    """A generation task scored by ``metric`` against ``target_field`` (default ``target``; a list there holds
    several references, the first trains)."""
    return TaskSpec(name=name, cluster=cluster, display_name=display_name, kind="generation",
                    input_fields=tuple(input_fields), templates=tuple(templates), description=description,
                    metric=metric, **fields)
