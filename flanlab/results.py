"""A cell's ``results.json``: its typed record, the one writer and the one reader.

The pipeline fills a ``CellResults`` stage by stage and ``save_cell_results`` writes it atomically, last, with
``schema_version``; everything that reads results (the sweep's skip and stale checks, the report, the notebooks)
goes through ``read_cell_results``, which also reads files written before the schema had a version (version 1)
and fills the sections added since with what those runs did.

Schema versions: 1 (no ``schema_version`` key, before issue 26); 2 adds ``schema_version`` and, from issues 24 and
25, ``data.unavailable`` and ``train.skipped_batches``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

from flanlab.io import atomic_write_json

RESULTS_FILE = "results.json"
SCHEMA_VERSION = 2


class CellIdentity(TypedDict, total=False):
    train_variant: str  # the training variant, or "untuned"
    arm: str  # what the arm is called in tables (e.g. "oracle", "cot_0.15")
    heldout: list[str]
    seed: int
    model: str
    template: str  # the template config's name
    key: str  # the cell key (with the entries left out as unavailable, if any)


class CellResults(TypedDict, total=False):
    """The sections of ``results.json``, in the order the pipeline fills them."""

    schema_version: int
    cell: CellIdentity
    split: dict[str, Any]  # held-out, training and removed clusters; removed_tasks with their reasons
    model: dict[str, Any]  # name, arch, source, parameters, trainable_parameters
    config: dict[str, Any]  # the resolved config, credentials scrubbed
    provenance: dict[str, Any]  # commit, dirty, template_hash, flanlab_version
    data: dict[str, Any]  # label_histograms, ambiguity, unavailable {policy, skipped}
    audit: dict[str, Any]  # the leakage audit (also in leakage_audit.json)
    train: dict[str, Any]  # steps, losses, mixture_hash, throughput, resumed_from, skipped_batches, saved_model
    curve: list[dict[str, Any]]  # held-out curve points during training (scoring.curve_every), oldest first
    zeroshot: dict[str, dict[str, Any]]  # per scoring variant: the stored summary (flanlab.scoring.aggregate)
    indist: dict[str, dict[str, Any]]  # per variant: the same, on the trained tasks
    bad_rows: dict[str, Any]  # policy and skipped rows per task/split
    metrics: dict[str, float]  # the flat W&B keys
    seconds: float


def results_path(cell_dir: str | Path) -> Path:
    return Path(cell_dir) / RESULTS_FILE


def save_cell_results(cell_dir: str | Path, record: CellResults) -> Path:
    """Write ``record`` as the cell's ``results.json`` (atomically), stamped with the schema version."""
    return atomic_write_json(results_path(cell_dir), {**record, "schema_version": SCHEMA_VERSION})


def read_cell_results(cell_dir: str | Path) -> CellResults | None:
    """The cell's results, upgraded to the current schema; None when there are none or they cannot be read (e.g.
    a file cut off mid-copy)."""
    try:
        data = json.loads(results_path(cell_dir).read_text())
    except (OSError, ValueError):
        return None
    return upgrade(data) if isinstance(data, dict) else None


def skipped_entries(record: dict[str, Any]) -> dict[str, Any]:
    """The catalogue entries a cell left out as unavailable (``data.unavailable.skipped``), by name."""
    return ((record.get("data") or {}).get("unavailable") or {}).get("skipped") or {}


def upgrade(data: dict[str, Any]) -> CellResults:
    """A results record of any schema version as the current one (sections added since get the values that the
    runs of that time had: nothing left out as unavailable, no skipped batches)."""
    record: dict[str, Any] = dict(data)
    record.setdefault("schema_version", 1)
    if isinstance(record.get("data"), dict):
        record["data"] = {"unavailable": {"policy": "error", "skipped": {}}, **record["data"]}
    if isinstance(record.get("train"), dict):
        record["train"] = {"skipped_batches": 0, **record["train"]}
    return record  # type: ignore[return-value]
