"""The world suite as a catalogue (``tasks=suite``): every task of :mod:`flanlab.tasks.suite`, no downloads."""

from __future__ import annotations

from flanlab.tasks.combined import GeneratedCatalogue
from flanlab.tasks.spec import TaskSpec
from flanlab.tasks.suite import build_suite, suite_tasks


class SuiteCatalogue(GeneratedCatalogue):
    """Tasks drawn from one small generated world, plus any ``include`` tasks."""

    def own_specs(self) -> list[TaskSpec]:
        return [t.spec for t in suite_tasks()]

    def build(self) -> list[tuple[TaskSpec, dict[str, list[dict]]]]:
        return build_suite(seed=self.seed, train_rows=self.train_rows, eval_rows=self.eval_rows)
