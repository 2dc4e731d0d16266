"""The embedded suite: FLAN-style task clusters generated from one small world (no downloads).

``build_suite(seed, train_rows, eval_rows)`` returns every task's spec with its rows per split:
``train``, ``validation`` and ``dev`` (a separate slice for picking templates). Rows are deterministic
for a seed, classification labels are exactly balanced per split, and no train row shares its input
(input fields, plus per-row options) with a validation or dev row. See :mod:`.world` for sampling.
"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.spec import TaskSpec
from flanlab.tasks.suite import (
    commonsense,
    coreference,
    misc,
    nli,
    paraphrase,
    reading_comprehension,
    sentiment,
    struct_to_text,
)
from flanlab.tasks.suite.world import SuiteTask, build_rows

CLUSTER_MODULES = (nli, paraphrase, sentiment, coreference, reading_comprehension, commonsense, struct_to_text, misc)


def suite_tasks() -> list[SuiteTask]:
    """Every suite task (spec plus row generator), cluster by cluster."""
    tasks = [task for module in CLUSTER_MODULES for task in module.TASKS]
    names = [t.spec.name for t in tasks]
    if len(set(names)) != len(names):
        raise RuntimeError("suite task names are not unique")
    return tasks


def build_suite(
    seed: int = 0, train_rows: int = 2000, eval_rows: int = 200,
) -> list[tuple[TaskSpec, dict[str, list[dict[str, Any]]]]]:
    """Every task's spec and its ``train`` / ``validation`` / ``dev`` rows, deterministic for ``seed``."""
    return [(t.spec, build_rows(t, seed, train_rows, eval_rows)) for t in suite_tasks()]


__all__ = ["build_suite", "suite_tasks"]
