"""The checked-in hub manifest (``hub_manifest.json``): for each FLAN catalogue entry, where its rows live on today's
hub, the hub's splits with their sizes, the hub's features, and the public evidence for all of it.

Declarations (``flanlab/tasks/flan/<cluster>.py``) say where to load from; the manifest says what the hub holds
there. ``declaration_problems`` compares the two (tests/unit/test_hub_manifest.py runs it on every entry, and
``flanlab catalogue check`` offline); ``load_arguments`` is the exact ``datasets.load_dataset`` call an entry makes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import datasets

from flanlab.errors import ConfigError
from flanlab.tasks.flan.build import hub_features
from flanlab.tasks.hub_schema import schema_problems
from flanlab.tasks.spec import TaskSpec

MANIFEST_FILE = Path(__file__).resolve().parent / "hub_manifest.json"
MANIFEST_VERSION = 1
_SPLIT = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(?P<slice>\[.*\])?$")


def load_manifest(path: str | Path = MANIFEST_FILE) -> dict[str, Any]:
    """The manifest's content, read afresh; a ConfigError when its ``schema_version`` is not ``MANIFEST_VERSION``."""
    content = json.loads(Path(path).read_text(encoding="utf-8"))
    if content.get("schema_version") != MANIFEST_VERSION:
        raise ConfigError(f"hub manifest {str(path)!r} has schema_version {content.get('schema_version')!r}; this "
                          f"flanlab reads schema_version {MANIFEST_VERSION}")
    return content


@cache
def read_manifest(path: str | Path = MANIFEST_FILE) -> dict[str, Any]:
    """The manifest's content (cached per path; ``load_manifest``)."""
    return load_manifest(path)


def manifest_entries(path: str | Path = MANIFEST_FILE) -> dict[str, dict[str, Any]]:
    """Every entry's record, by catalogue entry name."""
    return read_manifest(path)["entries"]


def manifest_record(name: str, path: str | Path = MANIFEST_FILE) -> dict[str, Any] | None:
    """One entry's record, or None for a task the manifest does not list (e.g. a test's own hub task)."""
    return manifest_entries(path).get(name)


def spec_record(spec: TaskSpec) -> dict[str, Any] | None:
    """The entry's manifest record when it describes the repository the spec loads from, else None."""
    record = manifest_record(spec.name)
    return record if record is not None and record.get("repo_id") == spec.hub_path else None


def split_name(split: str) -> str:
    """The bare split name of a split string that may carry slicing, e.g. ``train[:85%]`` -> ``train``."""
    match = _SPLIT.match(split)
    if not match:
        raise ConfigError(f"bad split string {split!r}")
    return match["name"]


def load_arguments(spec: TaskSpec, split: str) -> dict[str, Any]:
    """The ``datasets.load_dataset`` arguments that load ``split`` of a hub entry (repo as ``path``)."""
    return {"path": spec.hub_path, "name": spec.hub_config, "revision": spec.hub_revision,
            "data_dir": spec.hub_data_dir, "split": split}


def hub_features_of(record: Mapping[str, Any]) -> datasets.Features | None:
    """The hub's features a manifest record gives (None when it gives none)."""
    return datasets.Features.from_dict(record["features"]) if record.get("features") else None


def declaration_problems(spec: TaskSpec, record: Mapping[str, Any] | None) -> list[str]:
    """How an entry's declaration disagrees with its manifest record (empty: it agrees).

    Checked: the id is namespaced; repo, config, revision and data_dir match the record; the splits the entry uses
    exist; every declared raw field is in the hub's features with the same type and label names."""
    if record is None:
        return ["it has no record in the hub manifest"]
    problems = []
    if spec.hub_path is None or spec.hub_path.count("/") != 1:
        problems.append(f"hub id {spec.hub_path!r} is not namespaced ('namespace/name')")
    for key, declared in (("repo_id", spec.hub_path), ("config", spec.hub_config), ("revision", spec.hub_revision),
                          ("data_dir", spec.hub_data_dir)):
        if record.get(key) != declared:
            problems.append(f"declares {key} {declared!r}, the manifest {record.get(key)!r}")
    return problems + split_and_field_problems(spec, record.get("splits", {}), hub_features_of(record))


def split_and_field_problems(spec: TaskSpec, splits: Collection[str], features: datasets.Features | None) -> list[str]:
    """The splits the entry uses that ``splits`` lacks, then how its declared fields disagree with the hub's
    ``features`` (None: not checked)."""
    problems = []
    for split in dict.fromkeys([split_name(spec.train_split), split_name(spec.eval_split)]):
        if split not in splits:
            problems.append(f"split {split!r} is not among the hub's splits {sorted(splits)}")
    declared = hub_features(spec)
    if features is not None and declared is not None:
        problems += schema_problems(declared, features)
    return problems
