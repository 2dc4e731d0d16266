"""Run one cell inside a sweep: skip it when complete, record a failure instead of stopping the sweep."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from flanlab.sweeps.keys import cell_key, cell_name
from flanlab.sweeps.status import clear_failed, is_complete, mark_failed

log = logging.getLogger("flanlab.sweeps")


def guarded_cell(cfg: DictConfig, output_dir: str | Path, *, choices: dict[str, str] | None = None,
                 group: str | None = None, isolate: bool = True) -> dict[str, Any] | None:
    """Run ``flanlab.pipeline.run_cell`` for one cell and return its results.

    Returns None when the cell is skipped (``resume_complete`` and results with the same key exist)
    or, with ``isolate``, when it fails: the failure is written to ``failed.json`` and logged, and
    the sweep goes on. Without ``isolate`` the error is re-raised after the marker is written.
    """
    from flanlab.pipeline import run_cell

    output_dir = Path(output_dir)
    key, name = cell_key(cfg), cell_name(cfg)
    if cfg.resume_complete and is_complete(output_dir, key):
        log.info("cell %s [%s] already has results; skipping", name, key)
        return None
    clear_failed(output_dir)
    try:
        return run_cell(cfg, output_dir, choices=choices, group=group)
    except Exception as err:
        try:
            mark_failed(output_dir, err, key=key, name=name)
        except OSError as io_err:  # e.g. an unwritable output folder: report the cell's own error, not this one
            log.error("cell %s [%s]: could not write failed.json (%s)", name, key, io_err)
        if not isolate:
            raise
        log.error("cell %s [%s] failed: %s: %s (see %s/failed.json); the sweep goes on",
                  name, key, type(err).__name__, err, output_dir)
        return None
