"""A catalogue that merges others: a base catalogue plus extra task folders or files (BIG-bench, custom).

``tasks.extra`` lists entries ``{path: <folder or file>, cluster: <name or null>}``. A folder holds
BIG-bench tasks (``<task>/task.json``) and/or custom tasks (``<task>.yaml`` beside ``<task>.jsonl``);
a file is one of those. ``cluster`` assigns every task of the entry to a cluster (an existing one or a
new one); without it, custom tasks use their YAML's ``cluster`` and BIG-bench tasks the cluster ``bigbench``.
Task names must be unique across all parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import datasets

from flanlab.errors import ConfigError
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.spec import TaskSpec


class LocalCatalogue(Catalogue):
    """Tasks whose rows are already in memory, per split (what the BIG-bench and custom loaders build)."""

    def __init__(self, tasks: Mapping[str, tuple[TaskSpec, Mapping[str, list[dict[str, Any]]]]], source: str) -> None:
        self._tasks = dict(tasks)
        self.source = source

    @property
    def specs(self) -> Mapping[str, TaskSpec]:
        return {name: spec for name, (spec, _) in self._tasks.items()}

    def load(self, name: str, split: str) -> datasets.Dataset:
        _, splits = self._tasks[self.spec(name).name]
        if split not in splits:
            raise ConfigError(f"task {name!r} (from {self.source}) has no split {split!r}; it has {sorted(splits)}")
        return datasets.Dataset.from_list(list(splits[split]))


def load_extra(path: str | Path, cluster: str | None = None) -> list[Catalogue]:
    """Catalogues for one ``tasks.extra`` entry: a BIG-bench or custom task file, or a folder of them."""
    from flanlab.tasks.bigbench import load_bigbench
    from flanlab.tasks.custom import load_custom

    path = Path(path)
    if path.is_file():
        if path.name == "task.json":
            return [load_bigbench(path, cluster)]
        if path.suffix in (".yaml", ".yml"):
            return [load_custom(path, cluster)]
        raise ConfigError(f"extra task file {str(path)!r} is neither a BIG-bench task.json nor a custom task YAML "
                          "(config key `tasks.extra`)")
    if not path.is_dir():
        raise ConfigError(f"extra task path {str(path)!r} does not exist (config key `tasks.extra`)")
    found = [load_bigbench(p, cluster) for p in sorted(path.glob("*/task.json"))]
    if (path / "task.json").is_file():
        found.append(load_bigbench(path / "task.json", cluster))
    found += [load_custom(p, cluster) for p in sorted([*path.glob("*.yaml"), *path.glob("*.yml")])]
    if not found:
        raise ConfigError(f"extra task folder {str(path)!r} holds no task.json or task YAML (config key `tasks.extra`)")
    return found


class CombinedCatalogue(Catalogue):
    """Every task of ``base`` (may be None) and of each ``extra`` entry; each task is served by its owner."""

    def __init__(self, base: Catalogue | None = None, extra: Iterable[Mapping[str, Any] | str] = ()) -> None:
        parts: list[Catalogue] = [base] if base is not None else []
        for entry in extra or ():
            if isinstance(entry, str | Path):
                entry = {"path": entry}
            if "source" in entry or "format" in entry:  # an instruction-response source (docs/cot.md)
                from flanlab.tasks.instruct import load_instruct

                parts.append(load_instruct(entry))
                continue
            if "path" not in entry:
                raise ConfigError(f"a `tasks.extra` entry needs a `path`, got {dict(entry)}")
            parts += load_extra(entry["path"], entry.get("cluster"))
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
                           "(config key `tasks.extra`)")

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

    def load(self, name: str, split: str) -> datasets.Dataset:
        return self._owner[self.spec(name).name].load(name, split)

    def train_data(self, name: str) -> datasets.Dataset:
        return self._owner[self.spec(name).name].train_data(name)

    def eval_data(self, name: str) -> datasets.Dataset:
        return self._owner[self.spec(name).name].eval_data(name)


def _where(part: Catalogue) -> str:
    return getattr(part, "source", None) or type(part).__name__
