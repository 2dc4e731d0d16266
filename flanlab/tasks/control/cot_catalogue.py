"""``tasks=control_cot``: the positive-control suite plus its multi-step tasks with rationales
(:mod:`flanlab.tasks.control.multistep`), for the chain-of-thought study (docs/cot.md).

A separate catalogue, so that ``tasks=control`` (and every study on it) keeps its tasks, rows and tokenizer.
"""

from __future__ import annotations

from typing import Any

from flanlab.tasks.control.catalogue import ControlCatalogue
from flanlab.tasks.spec import TaskSpec


def build_multistep(seed: int = 0, train_rows: int = 2000,
                    eval_rows: int = 200) -> list[tuple[TaskSpec, dict[str, list[dict[str, Any]]]]]:
    """Every multi-step task's spec and rows per split, from the control suite's scene pools."""
    from flanlab.tasks.control import SPLITS, split_pools, task_rows
    from flanlab.tasks.control.multistep import multistep_tasks

    pools = split_pools(seed, train_rows, eval_rows)
    counts = {"train": train_rows, "validation": eval_rows, "dev": eval_rows}
    return [(t.spec, {s: task_rows(t, pools[s], counts[s], seed, s) for s in SPLITS}) for t in multistep_tasks()]


class ControlCoTCatalogue(ControlCatalogue):
    """The control suite's tasks, then the multi-step ones (clusters ``steps_seen`` and ``steps``)."""

    def own_specs(self) -> list[TaskSpec]:
        from flanlab.tasks.control.multistep import multistep_tasks

        return [*super().own_specs(), *(t.spec for t in multistep_tasks())]

    def build(self) -> list[tuple[TaskSpec, dict[str, list[dict]]]]:
        return [*super().build(), *build_multistep(self.seed, self.train_rows, self.eval_rows)]
