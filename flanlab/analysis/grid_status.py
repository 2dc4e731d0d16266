"""Which cells of the grids under a folder are complete, failed, incomplete or missing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from flanlab.results import RESULTS_FILE, read_cell_results, skipped_entries
from flanlab.sweeps.cell_state import FAILED_FILE, read_json, results_stale_reason
from flanlab.sweeps.grid import cell_overrides, sweep_overrides


def cell_state(cell_dir: Path, results: dict[str, Any] | None = None) -> tuple[str, str]:
    """``(state, detail)`` of one cell folder: complete (with the entries it left out as unavailable, if any),
    failed (with the error) or incomplete. ``results``: the folder's results when already read."""
    if (cell_dir / RESULTS_FILE).exists():
        skipped = sorted(skipped_entries(results or read_cell_results(cell_dir) or {}))
        return "complete", (f"left out as unavailable (data.unavailable=skip): {', '.join(skipped)}"
                            if skipped else "")
    failed = read_json(cell_dir / FAILED_FILE)
    if failed is not None:
        return "failed", f"{failed.get('error')}: {failed.get('message')}"
    return "incomplete", "started but wrote no results"


def grid_status(root: str | Path, cells: Sequence[dict] = ()) -> pd.DataFrame:
    """One row per cell folder under ``root``, plus one per expected cell (from ``multirun.yaml``) with no folder.
    ``cells``: complete cells already loaded (``load_cells``), so their results are not read again."""
    root = Path(root)
    loaded = {Path(cell["dir"]): cell for cell in cells}
    folders = {p.parent for p in root.rglob(RESULTS_FILE)} | {p.parent for p in root.rglob(FAILED_FILE)}
    folders |= {p.parent for p in root.rglob(".hydra") if p.is_dir()}
    rows, seen = [], set()
    for folder in sorted(folders):
        if (folder / "multirun.yaml").exists():
            continue  # a sweep folder, not a cell
        state, detail = cell_state(folder, loaded.get(folder))
        overrides = cell_overrides(folder)
        if overrides is not None:
            seen.add((folder.parent.resolve(), frozenset(overrides)))
        name = str(folder.relative_to(root)) if folder != root else "."
        rows.append({"cell": name, "state": state, "detail": detail})
    for multirun in sorted(root.rglob("multirun.yaml")):
        sweep = multirun.parent
        for overrides in sweep_overrides(sweep) or []:
            if (sweep.resolve(), frozenset(overrides)) not in seen:
                rows.append({"cell": str(sweep.relative_to(root) / " ".join(overrides)), "state": "missing",
                             "detail": "in the sweep's grid but never started"})
    return pd.DataFrame(rows, columns=["cell", "state", "detail"])


def _tasks_hash(tasks: dict) -> str | None:
    """The template hash of the catalogue a stored ``config.tasks`` builds with the current code, or None when
    it cannot be built here (a missing mirror, a removed task)."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from flanlab.provenance import template_hash

    try:
        return template_hash(instantiate(OmegaConf.create(tasks)).specs)
    except Exception:  # unchecked, not stale: the report must not fail on one odd cell
        return None


def stale_results(cells: list[dict]) -> dict[str, str]:
    """Why complete cells' results are stale against the current code, by cell folder (current cells left out).

    The current hash is that of the catalogue the cell's own ``config.tasks`` builds now; with
    ``resume_stale_commit`` in its config, results of another git commit are stale too (as in the sweep's
    skip check, ``flanlab.sweeps.cell_runner``). Cells whose catalogue cannot be built are left unchecked."""
    from flanlab.provenance import code_version

    hashes: dict[str, str | None] = {}
    out = {}
    for cell in cells:
        config = cell.get("config") or {}
        if not isinstance(config.get("tasks"), dict):
            continue
        text = json.dumps(config["tasks"], sort_keys=True, default=str)
        if text not in hashes:
            hashes[text] = _tasks_hash(config["tasks"])
        if hashes[text] is None:
            continue
        commit = code_version()["commit"] if config.get("resume_stale_commit") else None
        if reason := results_stale_reason(cell, hashes[text], commit):
            out[cell["dir"]] = reason
    return out
