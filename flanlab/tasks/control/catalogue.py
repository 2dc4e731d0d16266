"""The positive-control suite as a catalogue (``tasks=control``, the default ablation's): tasks on shared scenes
(:mod:`flanlab.tasks.control`), no downloads."""

from __future__ import annotations

from flanlab.tasks.combined import GeneratedCatalogue
from flanlab.tasks.control import build_control, control_tasks
from flanlab.tasks.spec import TaskSpec


class ControlCatalogue(GeneratedCatalogue):
    """The positive-control suite's tasks, plus any ``include`` tasks."""

    def own_specs(self) -> list[TaskSpec]:
        return [t.spec for t in control_tasks()]

    def build(self) -> list[tuple[TaskSpec, dict[str, list[dict]]]]:
        return build_control(seed=self.seed, train_rows=self.train_rows, eval_rows=self.eval_rows)
