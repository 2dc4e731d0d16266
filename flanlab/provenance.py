"""Where a cell's numbers came from: the code's git commit and a hash of the task templates.

Templates are code, not config, so a cell's config key (``flanlab/sweeps/keys.py``) stays the same
when a template changes. ``template_hash`` covers what a template or task-definition change alters;
the sweep's skip check compares it with the hash stored in ``results.json`` (``resume_stale``).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import flanlab
from flanlab.tasks.spec import TaskSpec

HASH_LENGTH = 16
SOURCE_DIR = Path(flanlab.__file__).resolve().parent


def _git(args: list[str], cwd: Path) -> str | None:
    """The stripped stdout of ``git <args>`` in ``cwd``, or None when git is missing or fails."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@lru_cache(maxsize=4)
def code_version(source_dir: Path = SOURCE_DIR) -> dict[str, Any]:
    """``{"commit": sha, "dirty": bool}`` of the checkout holding the package's source, or Nones.

    The package's ``__init__.py`` must be tracked by that checkout: an installed copy (a wheel in a
    virtualenv that happens to sit inside some git repository) gives ``{"commit": None, "dirty": None}``.
    ``dirty`` counts changes to tracked files only.
    """
    if _git(["ls-files", "--error-unmatch", "__init__.py"], source_dir) is None:
        return {"commit": None, "dirty": None}
    commit = _git(["rev-parse", "HEAD"], source_dir)
    status = _git(["status", "--porcelain", "--untracked-files=no"], source_dir)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def spec_fingerprint(spec: TaskSpec) -> dict[str, Any]:
    """The parts of a task definition that change what its prompts say or how they are scored."""
    return {
        "name": spec.name, "display_name": spec.display_name, "kind": spec.kind,
        "input_fields": list(spec.input_fields),
        "templates": [[t.id, t.input, t.target, t.inverted] for t in spec.templates],
        "options": list(spec.options) if spec.options is not None else None,
        "options_field": spec.options_field, "label_field": spec.label_field, "target_field": spec.target_field,
        "answer_types": {k: list(v) for k, v in sorted(spec.answer_types.items())},
        "metric": spec.metric,
    } | ({"inversions": [[t.id, t.input, t.target] for t in spec.inversions]} if spec.inversions else {}) \
      | ({"task_type": spec.metadata["task_type"]} if spec.metadata.get("task_type") else {})


def template_hash(specs: Mapping[str, TaskSpec] | Iterable[TaskSpec]) -> str:
    """A sha256 (16 hex digits) over the task definitions, in task-name order."""
    items = specs.values() if isinstance(specs, Mapping) else specs
    data = [spec_fingerprint(s) for s in sorted(items, key=lambda s: s.name)]
    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def cell_provenance(specs: Mapping[str, TaskSpec] | Iterable[TaskSpec]) -> dict[str, Any]:
    """The ``provenance`` block of ``results.json``: commit, dirty, template_hash, flanlab_version."""
    return {**code_version(), "template_hash": template_hash(specs), "flanlab_version": flanlab.__version__}
