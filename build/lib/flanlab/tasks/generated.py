"""The embedded, procedurally generated task suites as catalogues (no downloads): the world suite and the
positive-control suite."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import datasets

from flanlab.errors import unknown
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.spec import TaskSpec


class SuiteCatalogue(Catalogue):
    """Tasks drawn from one small generated world; deterministic for a given seed and size."""

    def __init__(self, seed: int = 0, train_rows: int = 2000, eval_rows: int = 200) -> None:
        self.seed, self.train_rows, self.eval_rows = seed, train_rows, eval_rows

    @cached_property
    def _built(self) -> dict[str, tuple[TaskSpec, dict[str, list[dict]]]]:
        from flanlab.tasks.suite import build_suite

        built = build_suite(seed=self.seed, train_rows=self.train_rows, eval_rows=self.eval_rows)
        return {spec.name: (spec, splits) for spec, splits in built}

    @property
    def specs(self) -> Mapping[str, TaskSpec]:
        return {name: spec for name, (spec, _) in self._built.items()}

    def load(self, name: str, split: str) -> datasets.Dataset:
        _, splits = self._built[self.spec(name).name]
        if split not in splits:
            raise unknown(f"split of task {name!r}", split, splits)
        return datasets.Dataset.from_list(splits[split])


class ControlCatalogue(SuiteCatalogue):
    """The positive-control suite (:mod:`flanlab.tasks.control`): tasks on shared scenes."""

    @cached_property
    def _built(self) -> dict[str, tuple[TaskSpec, dict[str, list[dict]]]]:
        from flanlab.tasks.control import build_control

        built = build_control(seed=self.seed, train_rows=self.train_rows, eval_rows=self.eval_rows)
        return {spec.name: (spec, splits) for spec, splits in built}
