"""Which cells of the grids under a folder are complete, failed, incomplete or missing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flanlab.sweeps.grid import cell_overrides, sweep_overrides
from flanlab.sweeps.status import FAILED_FILE, RESULTS_FILE, read_json


def cell_state(cell_dir: Path) -> tuple[str, str]:
    """``(state, detail)`` of one cell folder: complete, failed (with the error) or incomplete."""
    if (cell_dir / RESULTS_FILE).exists():
        return "complete", ""
    failed = read_json(cell_dir / FAILED_FILE)
    if failed is not None:
        return "failed", f"{failed.get('error')}: {failed.get('message')}"
    return "incomplete", "started but wrote no results"


def grid_status(root: str | Path) -> pd.DataFrame:
    """One row per cell folder under ``root``, plus one per expected cell (from ``multirun.yaml``) with no folder."""
    root = Path(root)
    folders = {p.parent for p in root.rglob(RESULTS_FILE)} | {p.parent for p in root.rglob(FAILED_FILE)}
    folders |= {p.parent for p in root.rglob(".hydra") if p.is_dir()}
    rows, seen = [], set()
    for folder in sorted(folders):
        if (folder / "multirun.yaml").exists():
            continue  # a sweep folder, not a cell
        state, detail = cell_state(folder)
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
