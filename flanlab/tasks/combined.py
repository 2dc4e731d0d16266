"""Catalogues that merge others: a base catalogue plus included task folders or files (BIG-bench, custom).

``tasks.include`` lists entries ``{path: <folder or file>, cluster: <name or null>}``. A folder holds
BIG-bench tasks (``<task>/task.json``) and/or custom tasks (``<task>.yaml`` beside ``<task>.jsonl``);
a file is one of those. ``cluster`` assigns every task of the entry to a cluster (an existing one or a
new one); without it, custom tasks use their YAML's ``cluster`` and BIG-bench tasks the cluster ``bigbench``.
Task names must be unique across all parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import datasets

from flanlab.errors import ConfigError, unknown
from flanlab.tasks.bigbench import load_bigbench
from flanlab.tasks.catalogue import Catalogue, LocalCatalogue
from flanlab.tasks.custom import load_custom
from flanlab.tasks.instruct import load_instruct
from flanlab.tasks.spec import TaskSpec


def load_included(path: str | Path, cluster: str | None = None) -> list[Catalogue]:
    """Catalogues for one ``tasks.include`` entry: a BIG-bench or custom task file, or a folder of them."""
    path = Path(path)
    if path.is_file():
        if path.name == "task.json":
            return [load_bigbench(path, cluster)]
        if path.suffix in (".yaml", ".yml"):
            return [load_custom(path, cluster)]
        raise ConfigError(f"included task file {str(path)!r} is neither a BIG-bench task.json nor a custom task YAML "
                          "(config key `tasks.include`)")
    if not path.is_dir():
        raise ConfigError(f"included task path {str(path)!r} does not exist (config key `tasks.include`)")
    found = [load_bigbench(p, cluster) for p in sorted(path.glob("*/task.json"))]
    if (path / "task.json").is_file():
        found.append(load_bigbench(path / "task.json", cluster))
    found += [load_custom(p, cluster) for p in sorted([*path.glob("*.yaml"), *path.glob("*.yml")])]
    if not found:
        raise ConfigError(f"included task folder {str(path)!r} holds no task.json or task YAML "
                          "(config key `tasks.include`)")
    return found


class CombinedCatalogue(Catalogue):
    """Every task of ``base`` (may be None) and of each ``include`` entry; each task is served by its owner."""

    def __init__(self, base: Catalogue | None = None, include: Iterable[Mapping[str, Any] | str] = ()) -> None:
        parts: list[Catalogue] = [base] if base is not None else []
        for entry in include or ():
            if isinstance(entry, str | Path):
                entry = {"path": entry}
            if "source" in entry or "format" in entry:  # an instruction-response source (docs/cot.md)
                parts.append(load_instruct(entry))
                continue
            if "path" not in entry:
                raise ConfigError(f"a `tasks.include` entry needs a `path`, got {dict(entry)}")
            parts += load_included(entry["path"], entry.get("cluster"))
        self._owner: dict[str, Catalogue] = {}
        for part in parts:
            for name in part.specs:
                if name in self._owner:
                    raise self.duplicate(name, _where(self._owner[name]), _where(part))
                self._owner[name] = part
        self._specs = {name: part.specs[name] for name, part in self._owner.items()}

    @staticmethod
    def duplicate(name: str, first: str, second: str) -> ConfigError:
        """The error for a task name that two parts define."""
        return ConfigError(f"task name {name!r} is defined twice: in {first} and in {second}; rename one "
                           "(config key `tasks.include`)")

    def source_of(self, name: str) -> str:
        """Where task ``name`` comes from: a file, or the base catalogue's class name."""
        return _where(self._owner[self.spec(name).name])

    @property
    def specs(self) -> Mapping[str, TaskSpec]:
        return self._specs

    def set_bad_rows(self, policy: str) -> None:
        super().set_bad_rows(policy)
        for part in dict.fromkeys(self._owner.values()):
            part.set_bad_rows(policy)

    @property
    def bad_row_counts(self) -> dict[str, int]:  # type: ignore[override]
        return {k: v for part in dict.fromkeys(self._owner.values()) for k, v in part.bad_row_counts.items()}

    def _drop_specs(self, names: set[str]) -> None:
        for part in dict.fromkeys(self._owner.values()):
            if own := names & set(part.specs):
                part.leave_out(own)
        self._owner = {k: v for k, v in self._owner.items() if k not in names}
        self._specs = {k: v for k, v in self._specs.items() if k not in names}

    def fetch_line(self, tasks: Iterable[str]) -> str | None:
        """What the base catalogue will download for ``tasks`` (``HubCatalogue.fetch_line``), or None."""
        lines = [part.fetch_line(tasks) for part in dict.fromkeys(self._owner.values())]
        return "; ".join(line for line in lines if line) or None

    def load(self, name: str, split: str) -> datasets.Dataset:
        return self._owner[self.spec(name).name].load(name, split)

    def train_data(self, name: str) -> datasets.Dataset:
        return self._owner[self.spec(name).name].train_data(name)

    def eval_data(self, name: str) -> datasets.Dataset:
        return self._owner[self.spec(name).name].eval_data(name)


def _where(part: Catalogue) -> str:
    return getattr(part, "source", None) or type(part).__name__


class GeneratedCatalogue(Catalogue):
    """A generated suite plus any ``include`` tasks: specs are cheap (``own_specs``), rows are generated on the
    first load (``build``) and kept in a ``LocalCatalogue``; deterministic for a seed and size."""

    def __init__(self, seed: int = 0, train_rows: int = 2000, eval_rows: int = 200,
                 include: Iterable[Mapping[str, Any] | str] = ()) -> None:
        self.seed, self.train_rows, self.eval_rows = seed, train_rows, eval_rows
        self.include = list(include or ())

    def own_specs(self) -> list[TaskSpec]:
        """The suite's own task specs, without building rows."""
        raise NotImplementedError

    def build(self) -> list[tuple[TaskSpec, dict[str, list[dict]]]]:
        """Every own task's spec with its rows per split."""
        raise NotImplementedError

    @cached_property
    def _generated(self) -> LocalCatalogue:
        return LocalCatalogue({spec.name: (spec, splits) for spec, splits in self.build()}, source=type(self).__name__)

    @cached_property
    def _included(self) -> CombinedCatalogue | None:
        """The included tasks as one catalogue (None without any); their names must not repeat the suite's."""
        if not self.include:
            return None
        combined = CombinedCatalogue(include=self.include)
        own = {spec.name for spec in self.own_specs()}
        for name in combined.specs:
            if name in own:
                raise CombinedCatalogue.duplicate(name, f"the {type(self).__name__}", combined.source_of(name))
        return combined

    @cached_property
    def _specs(self) -> dict[str, TaskSpec]:
        specs = {spec.name: spec for spec in self.own_specs()}
        return specs | (dict(self._included.specs) if self._included is not None else {})

    @property
    def specs(self) -> Mapping[str, TaskSpec]:
        return self._specs

    def load(self, name: str, split: str) -> datasets.Dataset:
        name = self.spec(name).name
        if self._included is not None and name in self._included.specs:
            return self._included.load(name, split)
        if split not in (splits := self._generated.split_names(name)):
            raise unknown(f"split of task {name!r}", split, splits)
        return self._generated.load(name, split)
