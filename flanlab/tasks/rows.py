"""Which rows of a task are used: a seeded sample order (``sample_order``, for every cap), and rows a task cannot
use, and what happens to them (``data.bad_rows``).

A row is unusable when a field its prompts read (an input field, or a field any template names) is null, or is
text that is empty or only whitespace: it would be rendered as the word ``None`` or as nothing. A classification
row is also unusable when it has no answer options or its label is missing or outside them; a generation row when
it has no non-empty reference. Policy ``skip`` drops such rows, counts them and logs a warning naming the task,
split, row and field; ``error`` stops with a one-line ``DataError`` naming the same.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import datasets
import numpy as np

from flanlab.errors import DataError, unknown
from flanlab.tasks.spec import TaskSpec

log = logging.getLogger(__name__)
POLICIES = ("skip", "error")
# Set by a hub entry's preprocess wrapper (flanlab.tasks.hub) to the raw field it found null; dropped after the check.
NULL_COLUMN = "_flanlab_null_field"


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise unknown("bad-row policy", policy, POLICIES, key="data.bad_rows")
    return policy


def text_fields(spec: TaskSpec) -> tuple[str, ...]:
    """The fields a task's prompts read as text: its input fields and every field a template names (answers,
    options and references are checked on their own)."""
    named = {f for t in spec.templates for f in t.fields()} | set(spec.input_fields)
    answer = {spec.label_field, spec.options_field, spec.target_field if not spec.is_classification else None}
    return tuple(sorted(named - answer))


def missing_text(row: Mapping[str, Any], fields: Sequence[str], optional: Sequence[str] = ()) -> str | None:
    """How the first of ``fields`` that a prompt cannot use looks (null, or empty text unless the field is
    ``optional``), or None."""
    for name in fields:
        if name not in row:
            continue  # a missing field is a template error, reported where the template is filled
        value = row[name]
        if value is None:
            return f"has a null {name!r}"
        if isinstance(value, str) and not value.strip() and name not in optional:
            return f"has an empty {name!r}"
        if isinstance(value, list | tuple) and any(v is None for v in value):
            return f"has a null inside {name!r}"
    return None


def bad_row_reason(spec: TaskSpec, row: Mapping[str, Any], fields: Sequence[str]) -> str | None:
    """Why ``row`` cannot be trained on or scored, or None when it is fine (``fields``: the text fields to check,
    ``text_fields(spec)`` among the row's columns)."""
    if row.get(NULL_COLUMN) is not None:
        return f"has a null {row[NULL_COLUMN]!r}"
    if (reason := missing_text(row, fields, spec.optional_fields)) is not None:
        return reason
    if spec.is_classification:
        options = row.get(spec.options_field) if spec.options_field else spec.options
        if not options:
            return "has no answer options"
        label = row.get(spec.label_field)
        try:
            ok = label is not None and 0 <= int(label) < len(options)
        except (TypeError, ValueError):
            ok = False
        return None if ok else f"has label {label!r}, outside its {len(options)} options"
    value = row.get(spec.target_field)
    refs = [value] if isinstance(value, str) else list(value or [])
    return None if any(bool(r) for r in refs) else "has no reference answer"


def drop_bad_rows(spec: TaskSpec, rows: datasets.Dataset, split: str, policy: str,
                  warn: bool = True) -> tuple[datasets.Dataset, int]:
    """``rows`` without unusable ones, and how many were dropped; raises under policy ``error``."""
    texts = [f for f in text_fields(spec) if f in rows.column_names]
    answer = [f for f in (NULL_COLUMN, spec.label_field, spec.options_field, spec.target_field)
              if f and f in rows.column_names]
    fields = list(dict.fromkeys([*answer, *texts]))
    columns = rows.select_columns(fields).to_dict() if fields else {}  # far faster than iterating rows[f]
    bad = []
    for i, values in enumerate(zip(*columns.values(), strict=True) if columns else [()] * len(rows)):
        reason = bad_row_reason(spec, dict(zip(columns, values, strict=True)), texts)
        if reason is not None:
            bad.append((i, reason))
    if not bad:
        return rows, 0
    first, reason = bad[0]
    where = f"dataset {spec.name!r} split {split!r}"
    if check_policy(policy) == "error":
        raise DataError(f"{where} row {first} {reason} ({len(bad)} such rows of {len(rows)}; "
                        "data.bad_rows=skip drops and counts them)")
    if warn:
        log.warning("%s: skipped %d of %d rows that cannot be used (first: row %d %s)", where, len(bad), len(rows),
                    first, reason)
    dropped = {i for i, _ in bad}
    return rows.select([i for i in range(len(rows)) if i not in dropped]), len(bad)


def sample_order(n: int, seed: int, name: str) -> list[int]:
    """A seeded random permutation of ``range(n)``, fixed by ``seed`` and ``name`` (e.g. a task name).

    Taking its first k entries is a random sample of k rows; different names give unrelated orders.
    """
    rng = np.random.default_rng([zlib.crc32(name.encode()), seed % 2**32])
    return rng.permutation(n).tolist()
