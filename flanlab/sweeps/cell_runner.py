"""Run one cell inside a sweep: skip it when complete and current, record a failure instead of stopping the sweep.

A cell's results are *stale* when their stored ``provenance.template_hash`` differs from the hash of
today's task templates (templates are code, so the config key misses a template change), or, with
``resume_stale_commit=true``, when they came from another git commit. ``resume_stale`` says what
happens to a stale cell: ``rerun`` it (the default), ``keep`` it (skipped on purpose, logged), or
stop with an ``error`` that names the stale cells.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from omegaconf import DictConfig, OmegaConf

from flanlab.errors import ConfigError, FlanlabError, unknown
from flanlab.results import read_cell_results, skipped_entries
from flanlab.sweeps.cell_state import RESULTS_FILE, STALE_POLICIES, clear_failed, mark_failed, results_stale_reason
from flanlab.sweeps.keys import cell_key, cell_name

log = logging.getLogger("flanlab.sweeps")
_HASHES: dict[str, str] = {}  # resolved tasks config -> template hash, once per process


class Resume(NamedTuple):
    """What to do with a cell folder: ``run``, ``skip`` or ``error``, and why (empty: a fresh run)."""

    action: str
    reason: str = ""


def current_template_hash(cfg: DictConfig) -> str:
    """The template hash of the catalogue ``cfg.tasks`` builds (cached per resolved tasks config)."""
    from hydra.utils import instantiate

    from flanlab.provenance import template_hash

    text = json.dumps(OmegaConf.to_container(cfg.tasks, resolve=True), sort_keys=True, default=str)
    if text not in _HASHES:
        _HASHES[text] = template_hash(instantiate(cfg.tasks).specs)
    return _HASHES[text]


def _current_commit(cfg: DictConfig) -> str | None:
    from flanlab.provenance import code_version

    return code_version()["commit"] if cfg.resume_stale_commit else None


def resume_decision(cfg: DictConfig, output_dir: str | Path) -> Resume:
    """Whether the cell in ``output_dir`` runs, is skipped, or stops the sweep as stale."""
    policy = str(cfg.resume_stale)
    if policy not in STALE_POLICIES:
        raise unknown("stale-results policy", policy, STALE_POLICIES, key="resume_stale")
    data = read_cell_results(output_dir) if cfg.resume_complete else None
    if data is None or not same_config(cfg, data):
        return Resume("run")
    try:
        reason = results_stale_reason(data, current_template_hash(cfg), _current_commit(cfg))
    except Exception as err:  # the catalogue cannot be built: let the run itself fail and record it
        return Resume("run", f"could not check its results are current ({type(err).__name__}: {err}); rerunning")
    if reason is None:
        return Resume("skip", "already has results")
    if policy == "keep":
        return Resume("skip", f"has stale results, kept on purpose (resume_stale=keep): {reason}")
    if policy == "error":
        return Resume("error", reason)
    return Resume("run", f"has stale results, rerunning it (resume_stale=rerun): {reason}")


def same_config(cfg: DictConfig, data: dict[str, Any]) -> bool:
    """Whether complete results came from this very config: their key is the one ``cfg`` has with the entries
    they left out as unavailable (results from before keys were stored count as the same)."""
    return data.get("cell", {}).get("key") in (None, cell_key(cfg, skipped_entries(data)))


def stale_cells(cfg: DictConfig, sweep_dir: Path) -> list[str]:
    """Folders in ``sweep_dir`` whose results, made from the same tasks config as ``cfg``, are stale."""
    tasks = OmegaConf.to_container(cfg.tasks, resolve=True)
    current, commit = current_template_hash(cfg), _current_commit(cfg)
    found = []
    for cell in sorted(p for p in sweep_dir.iterdir() if (p / RESULTS_FILE).is_file()):
        data = read_cell_results(cell) or {}
        if data.get("config", {}).get("tasks") == tasks and results_stale_reason(data, current, commit):
            found.append(cell.name)
    return found


def stale_error(cfg: DictConfig, output_dir: Path, reason: str, sweep: bool) -> ConfigError:
    """A one-line error naming the stale cell(s) and how to keep or rerun them."""
    cells = (stale_cells(cfg, output_dir.parent) if sweep else []) or [output_dir.name]
    listed = ", ".join(cells[:10]) + (f" and {len(cells) - 10} more" if len(cells) > 10 else "")
    return ConfigError(f"{len(cells)} cell(s) have stale results ({listed}): {reason}; keep them with "
                       "resume_stale=keep or rerun them with resume_stale=rerun (config key `resume_stale`)")


def guarded_cell(cfg: DictConfig, output_dir: str | Path, run: Callable[..., dict[str, Any]], *,
                 choices: dict[str, str] | None = None, group: str | None = None,
                 isolate: bool = True) -> dict[str, Any] | None:
    """Run one cell with ``run`` (``flanlab.pipeline.run_cell``, passed in by the entry point) and return its results.

    Returns None when the cell is skipped (``resume_complete``, results with the same key exist and
    are current, or are stale under ``resume_stale=keep``) or, with ``isolate``, when it fails: the
    failure is written to ``failed.json`` and logged, and the sweep goes on. Without ``isolate`` the
    error is re-raised after the marker is written. Stale results under ``resume_stale=error`` raise
    a ``ConfigError`` before anything runs.
    """
    output_dir = Path(output_dir)
    key, name = cell_key(cfg), cell_name(cfg)
    decision = resume_decision(cfg, output_dir)
    if decision.action == "skip":
        log.info("cell %s [%s] %s; skipping", name, key, decision.reason)
        return None
    if decision.action == "error":
        raise stale_error(cfg, output_dir, decision.reason, sweep=isolate)
    if decision.reason:
        log.info("cell %s [%s] %s", name, key, decision.reason)
    clear_failed(output_dir)
    try:
        return run(cfg, output_dir, choices=choices, group=group)
    except Exception as raised:
        err = cell_fault(raised, name)
        try:
            mark_failed(output_dir, err, key=key, name=name)
        except OSError as io_err:  # e.g. an unwritable output folder: report the cell's own error, not this one
            log.error("cell %s [%s]: could not write failed.json (%s)", name, key, io_err)
        if not isolate:
            if err is raised:
                raise
            raise err from raised
        if isinstance(err, FlanlabError):  # the same one line the entry point prints for a single run
            log.error("flanlab: error: %s (see %s/failed.json); the sweep goes on", err, output_dir)
        else:
            log.error("cell %s [%s] failed: %s: %s (see %s/failed.json); the sweep goes on",
                      name, key, type(err).__name__, err, output_dir)
        return None


def cell_fault(err: Exception, name: str) -> Exception:
    """``err`` as one line naming the cell when it is a fault the user can act on (``flanlab.faults``): a
    ``RunFault`` gains the cell's name; memory or disk running out elsewhere in the cell becomes one. Anything
    else is returned as it is (a bug keeps its traceback)."""
    from flanlab.faults import RunFault, translate

    fault = translate(err, oom=("running the cell", "this machine", "lower train.batch_size or scoring.batch_size"),
                      disk=("a file of the cell", "free space there, or point hydra.sweep.dir or hydra.run.dir "
                            "at a disk with room"))
    if fault is None:
        return err
    return RunFault(f"cell {name}: {fault}")
