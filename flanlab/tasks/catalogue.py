"""A catalogue: task specs plus a way to fetch their rows. Every data source implements this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from functools import cached_property

import datasets

from flanlab.errors import unknown
from flanlab.tasks.spec import TaskSpec


class Catalogue(ABC):
    """Tasks grouped into clusters. Subclasses say where rows come from."""

    @property
    @abstractmethod
    def specs(self) -> Mapping[str, TaskSpec]:
        """Every task, by name."""

    @abstractmethod
    def load(self, name: str, split: str) -> datasets.Dataset:
        """The rows of one task's split, as a ``datasets.Dataset`` with named fields."""

    @cached_property
    def clusters(self) -> dict[str, list[str]]:
        """Task names per cluster, in catalogue order."""
        out: dict[str, list[str]] = {}
        for spec in self.specs.values():
            out.setdefault(spec.cluster, []).append(spec.name)
        return out

    def spec(self, name: str) -> TaskSpec:
        if name not in self.specs:
            raise unknown("task", name, self.specs)
        return self.specs[name]

    def check_clusters(self, names: Iterable[str], key: str) -> None:
        """Raise a one-line error if any cluster name is not in this catalogue."""
        for name in names:
            if name not in self.clusters:
                raise unknown("cluster", name, self.clusters, key=key)

    def train_data(self, name: str) -> datasets.Dataset:
        return self.load(name, self.spec(name).train_split)

    def eval_data(self, name: str) -> datasets.Dataset:
        return self.load(name, self.spec(name).eval_split)
