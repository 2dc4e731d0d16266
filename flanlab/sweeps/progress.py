"""A Hydra callback that prints a sweep's progress: the running cell, done/skipped/failed counts, ETA.

Counts come from the cell folders' marker files, so they stay right when cells run in other
processes (joblib, submitit) and when a sweep is resumed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from flanlab.results import RESULTS_FILE
from flanlab.sweeps.cell_runner import resume_decision
from flanlab.sweeps.cell_state import FAILED_FILE, read_json
from flanlab.sweeps.grid import expected_overrides
from flanlab.sweeps.keys import cell_key, cell_name

VERBS = {"run": "running", "skip": "skipping", "error": "stopping at stale"}


def sweep_counts(sweep_dir: str | Path, since: float) -> dict[str, Any]:
    """Cells completed since ``since`` (with their compute seconds), complete before it, and failed since."""
    done, skipped, failed, seconds = 0, 0, 0, []
    for cell in Path(sweep_dir).glob("*/"):
        results = cell / RESULTS_FILE
        if results.exists():
            if results.stat().st_mtime >= since:
                done += 1
                data = read_json(results) or {}
                if "seconds" in data:
                    seconds.append(float(data["seconds"]))
            else:
                skipped += 1
        elif (cell / FAILED_FILE).exists() and (cell / FAILED_FILE).stat().st_mtime >= since:
            failed += 1
    return {"done": done, "skipped": skipped, "failed": failed, "seconds": seconds}


def job_verb(config: DictConfig, output_dir: str | Path) -> str:
    """What the cell is about to do, by the same check ``guarded_cell`` makes: running, skipping or stopping."""
    try:
        return VERBS[resume_decision(config, output_dir).action]
    except Exception:  # e.g. a bad resume_stale value: the job itself reports it
        return "running"


def eta_seconds(seconds: list[float], remaining: int, workers: int = 1) -> float | None:
    """Mean compute time of the cells finished so far, times the cells left, over the parallel workers;
    None before the first."""
    if not seconds or remaining <= 0:
        return None if remaining > 0 else 0.0
    return sum(seconds) / len(seconds) * remaining / max(workers, 1)


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class SweepProgress(Callback):
    """Prints one line when each cell starts and ends, and a summary when the sweep ends."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.started = time.time()
        self.sweep_dir: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.started = time.time() - 1.0  # file mtimes are coarse on some filesystems
        self.sweep_dir = str(config.hydra.sweep.dir)
        try:
            self.total = len(expected_overrides(config))
        except Exception:
            self.total = None
        print(f"[sweep] {self.total if self.total is not None else '?'} cells under {self.sweep_dir}", flush=True)

    def _line(self, config: DictConfig, prefix: str) -> str:
        sweep_dir = self.sweep_dir or str(config.hydra.sweep.dir)
        c = sweep_counts(sweep_dir, self.started)
        finished = c["done"] + c["skipped"] + c["failed"]
        remaining = (self.total - finished) if self.total is not None else 0
        workers = int(OmegaConf.select(config, "hydra.launcher.n_jobs", default=1) or 1)
        eta = eta_seconds(c["seconds"], remaining, workers) if self.total is not None else None
        total = self.total if self.total is not None else "?"
        return (f"[sweep] {prefix} | {finished}/{total} finished: {c['done']} done, {c['skipped']} skipped, "
                f"{c['failed']} failed | ETA {fmt_duration(eta)}")

    @staticmethod
    def _in_sweep(config: DictConfig) -> bool:
        """False for a single run of a sweep experiment (``hydra.mode=RUN``): no job number, no sweep lines."""
        return OmegaConf.select(config, "hydra.job.num", default=None, throw_on_missing=False) is not None

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not self._in_sweep(config):
            return
        name = f"{cell_name(config)} [{cell_key(config)}]"
        verb = job_verb(config, config.hydra.runtime.output_dir)
        print(self._line(config, f"{verb} cell #{config.hydra.job.num} {name}"), flush=True)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if not self._in_sweep(config):
            return
        out = Path(config.hydra.runtime.output_dir)
        state = "complete" if (out / RESULTS_FILE).exists() else "incomplete"
        if (out / FAILED_FILE).exists():
            state = "failed"
        print(self._line(config, f"cell #{config.hydra.job.num} {cell_name(config)} {state}"), flush=True)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        print(self._line(config, f"sweep finished in {fmt_duration(time.time() - self.started)}"), flush=True)
