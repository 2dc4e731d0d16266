"""A catalogue: task specs plus a way to fetch their rows. Every data source implements ``Catalogue``;
``LocalCatalogue`` serves tasks whose rows are already in memory (BIG-bench, custom tasks, the generated suites)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

import datasets

from flanlab.errors import ConfigError, DataError, unknown
from flanlab.tasks.rows import check_policy, drop_bad_rows
from flanlab.tasks.spec import TaskSpec

log = logging.getLogger(__name__)
UNAVAILABLE_POLICIES = ("error", "skip")  # data.unavailable


class EntryUnavailable(DataError):
    """A task's rows cannot be had (the hub or mirror cannot serve them, or they lack a declared field); under
    ``data.unavailable=skip`` such a task is left out (``Catalogue.leave_out_unavailable``)."""


class Catalogue(ABC):
    """Tasks grouped into clusters. Subclasses say where rows come from.

    ``train_data``/``eval_data`` drop unusable rows (``flanlab.tasks.rows``) under the ``bad_rows``
    policy and count them in ``bad_row_counts``.
    """

    bad_rows: str = "skip"

    @property
    @abstractmethod
    def specs(self) -> Mapping[str, TaskSpec]:
        """Every task, by name."""

    @abstractmethod
    def load(self, name: str, split: str) -> datasets.Dataset:
        """The rows of one task's split, as a ``datasets.Dataset`` with named fields."""

    @cached_property
    def clusters(self) -> dict[str, list[str]]:
        """Task names per cluster, in catalogue order; first, every task's templates are checked
        (``TaskSpec.check_layout``), so a catalogue is checked where it is first used."""
        source = getattr(self, "source", None) or f"catalogue {type(self).__name__} ({type(self).__module__})"
        out: dict[str, list[str]] = {}
        for spec in self.specs.values():
            spec.check_layout(source)
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

    def set_bad_rows(self, policy: str) -> None:
        """``skip`` (drop, count, warn) or ``error``: what happens to rows no task can use."""
        self.bad_rows = check_policy(policy)

    @cached_property
    def bad_row_counts(self) -> dict[str, int]:
        """Rows skipped as unusable, by ``<task>/<split>`` (non-zero counts only)."""
        return {}

    def usable(self, name: str, split: str, rows: datasets.Dataset) -> datasets.Dataset:
        """``rows`` of ``name``'s ``split`` without unusable ones, counted once per split."""
        key = f"{name}/{split}"
        rows, dropped = drop_bad_rows(self.spec(name), rows, split, self.bad_rows, warn=key not in self.bad_row_counts)
        if dropped:
            self.bad_row_counts[key] = dropped
        return rows

    def leave_out_unavailable(self, tasks: Iterable[str], policy: str) -> dict[str, str]:
        """Load each task's train and scored rows once. A task whose rows cannot be had (``EntryUnavailable``)
        stops the run under policy ``error``; under ``skip`` it is left out of the catalogue with a warning naming
        it and why. Returns the left-out tasks with their reasons."""
        if policy not in UNAVAILABLE_POLICIES:
            raise unknown("unavailable-entry policy", policy, UNAVAILABLE_POLICIES, key="data.unavailable")
        skipped = {}
        for name in tasks:
            try:
                self.train_data(name)
                self.eval_data(name)
            except EntryUnavailable as err:
                if policy == "error":
                    raise
                log.warning("%s; left out of this cell (data.unavailable=skip)", err)
                skipped[name] = str(err)
        self.leave_out(skipped)
        return skipped

    def leave_out(self, names: Iterable[str]) -> None:
        """Drop tasks from the catalogue (their clusters are recomputed; a cluster left empty disappears)."""
        names = set(names)
        if names:
            self._drop_specs(names)
            self.__dict__.pop("clusters", None)

    def fetch_line(self, tasks: Iterable[str]) -> str | None:
        """What loading ``tasks`` will download from the hub, as one line; None for a catalogue that downloads
        nothing (``HubCatalogue`` overrides it)."""
        return None

    def _drop_specs(self, names: set[str]) -> None:
        raise ConfigError(f"{type(self).__name__} cannot leave tasks out ({sorted(names)})")

    def train_data(self, name: str) -> datasets.Dataset:
        split = self.spec(name).train_split
        return self.usable(name, split, self.load(name, split))

    def eval_data(self, name: str) -> datasets.Dataset:
        split = self.spec(name).eval_split
        return self.usable(name, split, self.load(name, split))


class LocalCatalogue(Catalogue):
    """Tasks whose rows are already in memory, per split (what the BIG-bench and custom loaders build)."""

    def __init__(self, tasks: Mapping[str, tuple[TaskSpec, Mapping[str, list[dict[str, Any]]]]], source: str) -> None:
        self._tasks = dict(tasks)
        self.source = source

    @property
    def specs(self) -> Mapping[str, TaskSpec]:
        return {name: spec for name, (spec, _) in self._tasks.items()}

    def split_names(self, name: str) -> list[str]:
        """The splits task ``name`` has rows for."""
        return list(self._tasks[self.spec(name).name][1])

    def load(self, name: str, split: str) -> datasets.Dataset:
        _, splits = self._tasks[self.spec(name).name]
        if split not in splits:
            raise ConfigError(f"task {name!r} (from {self.source}) has no split {split!r}; it has {sorted(splits)}")
        return datasets.Dataset.from_list(list(splits[split]))
