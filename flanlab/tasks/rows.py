"""Which rows of a task are used: a seeded sample order (``sample_order``, for every cap), and rows a task cannot
use, and what happens to them (``data.bad_rows``).

A classification row is unusable when it has no answer options or its label is missing or outside
them; a generation row when it has no non-empty reference. Policy ``skip`` drops such rows, counts
them and logs a warning; ``error`` stops with a one-line ``DataError`` naming the task, split and row.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping
from typing import Any

import datasets
import numpy as np

from flanlab.errors import DataError, unknown
from flanlab.tasks.spec import TaskSpec

log = logging.getLogger(__name__)
POLICIES = ("skip", "error")


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise unknown("bad-row policy", policy, POLICIES, key="data.bad_rows")
    return policy


def bad_row_reason(spec: TaskSpec, row: Mapping[str, Any]) -> str | None:
    """Why ``row`` cannot be trained on or scored, or None when it is fine."""
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
    fields = [f for f in (spec.label_field, spec.options_field, spec.target_field) if f and f in rows.column_names]
    columns = rows.select_columns(fields).to_dict() if fields else {}  # far faster than iterating rows[f]
    bad = []
    for i, values in enumerate(zip(*columns.values(), strict=True) if columns else [()] * len(rows)):
        reason = bad_row_reason(spec, dict(zip(columns, values, strict=True)))
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
