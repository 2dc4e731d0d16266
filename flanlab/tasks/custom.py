"""Users' own tasks: one YAML per task (fields, options, metric, templates, cluster) plus JSONL rows.

The format is documented in ``docs/custom_tasks.md``. Every problem is a one-line ``DataError`` that
names the YAML file (and the row, for bad rows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from flanlab.errors import DataError
from flanlab.tasks.catalogue import LocalCatalogue
from flanlab.tasks.spec import TaskSpec, Template, validate_task

REQUIRED = ("name", "kind", "input_fields", "templates", "splits")


def _rows(yaml_path: Path, split: str, file: str, spec: TaskSpec) -> list[dict[str, Any]]:
    path = (yaml_path.parent / file).resolve()
    if not path.is_file():
        raise DataError(f"custom task {str(yaml_path)!r}: split {split!r} file {str(path)!r} does not exist")
    rows = []
    for n, line in enumerate(path.read_text().split("\n"), start=1):  # JSONL lines end at \n only (not U+2028)
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"custom task {str(yaml_path)!r}: {path.name} line {n} is not JSON ({err.msg})") from None
        if spec.is_classification and spec.options and isinstance(row.get(spec.label_field), str):
            if row[spec.label_field] not in spec.options:
                raise DataError(f"custom task {str(yaml_path)!r}: {path.name} line {n} label "
                                f"{row[spec.label_field]!r} is not one of {list(spec.options)}")
            row[spec.label_field] = spec.options.index(row[spec.label_field])
        rows.append(row)
    try:
        validate_task(spec, rows)
    except ValueError as err:
        raise DataError(f"custom task {str(yaml_path)!r} ({path.name}): {err}") from None
    if not rows:
        raise DataError(f"custom task {str(yaml_path)!r}: split {split!r} ({path.name}) has no rows")
    return rows


def load_custom(path: str | Path, cluster: str | None = None) -> LocalCatalogue:
    """One custom task YAML (and its JSONL splits) as a one-task catalogue; ``cluster`` overrides the YAML's."""
    path = Path(path)
    try:
        cfg = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise DataError(f"custom task {str(path)!r} is not readable YAML: {str(err).splitlines()[0]}") from None
    if not isinstance(cfg, dict):
        raise DataError(f"custom task {str(path)!r} must be a YAML mapping")
    missing = [k for k in REQUIRED if k not in cfg]
    if missing or not (cluster or cfg.get("cluster")):
        raise DataError(f"custom task {str(path)!r} lacks {missing or ['cluster']} (see docs/custom_tasks.md)")
    try:
        templates = tuple(Template(id=str(t["id"]), input=str(t["input"]), target=str(t.get("target", "{answer}")),
                                   inverted=bool(t.get("inverted", False)),
                                   held_back=bool(t.get("held_back", False))) for t in cfg["templates"])
        spec = TaskSpec(
            name=str(cfg["name"]), cluster=str(cluster or cfg["cluster"]),
            display_name=str(cfg.get("display_name", cfg["name"])), kind=cfg["kind"],
            input_fields=tuple(cfg["input_fields"]), templates=templates,
            metric=str(cfg.get("metric", "accuracy" if cfg["kind"] == "classification" else "exact_match")),
            options=tuple(str(o) for o in cfg["options"]) if cfg.get("options") else None,
            options_field=cfg.get("options_field"), label_field=str(cfg.get("label_field", "label")),
            target_field=str(cfg.get("target_field", "target")), train_split=str(cfg.get("train_split", "train")),
            eval_split=str(cfg.get("eval_split", "validation")), description=str(cfg.get("description", "")),
            metadata={"source": str(path)},
        )
    except (KeyError, TypeError) as err:
        raise DataError(f"custom task {str(path)!r}: bad template or field entry ({err})") from None
    if spec.kind not in ("classification", "generation"):
        raise DataError(f"custom task {str(path)!r}: kind must be classification or generation, got {spec.kind!r}")
    spec.check_layout(f"custom task {str(path)!r}")
    splits = {split: _rows(path, split, file, spec) for split, file in dict(cfg["splits"]).items()}
    for role in (spec.train_split, spec.eval_split):
        if role not in splits:
            raise DataError(f"custom task {str(path)!r}: no split {role!r} under `splits`")
    return LocalCatalogue({spec.name: (spec, splits)}, source=f"custom task {path}")
