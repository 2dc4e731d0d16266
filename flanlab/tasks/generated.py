"""The embedded, procedurally generated task suites as catalogues (no downloads): the world suite and the
positive-control suite.

Both take ``extra``, the ``tasks.extra`` entries of :mod:`flanlab.tasks.combined` (BIG-bench or custom
task folders and files), whose tasks join the suite's. Specs come without building rows, so cluster
names are cheap; rows are generated on the first load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

import datasets

from flanlab.errors import unknown
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.spec import TaskSpec


class SuiteCatalogue(Catalogue):
    """Tasks drawn from one small generated world, plus any ``extra`` tasks; deterministic for a seed and size."""

    def __init__(self, seed: int = 0, train_rows: int = 2000, eval_rows: int = 200,
                 extra: Iterable[Mapping[str, Any] | str] = ()) -> None:
        self.seed, self.train_rows, self.eval_rows = seed, train_rows, eval_rows
        self.extra = list(extra or ())

    def _own_specs(self) -> list[TaskSpec]:
        from flanlab.tasks.suite import suite_tasks

        return [t.spec for t in suite_tasks()]

    def _build(self) -> list[tuple[TaskSpec, dict[str, list[dict]]]]:
        from flanlab.tasks.suite import build_suite

        return build_suite(seed=self.seed, train_rows=self.train_rows, eval_rows=self.eval_rows)

    @cached_property
    def _built(self) -> dict[str, tuple[TaskSpec, dict[str, list[dict]]]]:
        return {spec.name: (spec, splits) for spec, splits in self._build()}

    @cached_property
    def _extra(self) -> Catalogue | None:
        """The extra tasks as one catalogue (None without any); their names must not repeat the suite's."""
        if not self.extra:
            return None
        from flanlab.tasks.combined import CombinedCatalogue

        combined = CombinedCatalogue(extra=self.extra)
        own = {spec.name for spec in self._own_specs()}
        for name in combined.specs:
            if name in own:
                raise CombinedCatalogue.duplicate(name, f"the {type(self).__name__}", combined.source_of(name))
        return combined

    @cached_property
    def _specs(self) -> dict[str, TaskSpec]:
        specs = {spec.name: spec for spec in self._own_specs()}
        return specs | (dict(self._extra.specs) if self._extra is not None else {})

    @property
    def specs(self) -> Mapping[str, TaskSpec]:
        return self._specs

    def load(self, name: str, split: str) -> datasets.Dataset:
        name = self.spec(name).name
        if self._extra is not None and name in self._extra.specs:
            return self._extra.load(name, split)
        _, splits = self._built[name]
        if split not in splits:
            raise unknown(f"split of task {name!r}", split, splits)
        return datasets.Dataset.from_list(splits[split])


class ControlCatalogue(SuiteCatalogue):
    """The positive-control suite (:mod:`flanlab.tasks.control`): tasks on shared scenes, plus any ``extra``."""

    def _own_specs(self) -> list[TaskSpec]:
        from flanlab.tasks.control import control_tasks

        return [t.spec for t in control_tasks()]

    def _build(self) -> list[tuple[TaskSpec, dict[str, list[dict]]]]:
        from flanlab.tasks.control import build_control

        return build_control(seed=self.seed, train_rows=self.train_rows, eval_rows=self.eval_rows)
