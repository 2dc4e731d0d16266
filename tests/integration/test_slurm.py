"""A tiny ablation grid on a real SLURM cluster (``hydra/launcher=slurm_cpu``): every cell ran as a task of one
SLURM job array, the sweep's callbacks wrote the report, and a rerun skips the complete cells.

It needs a running cluster with a partition ``cpu``: ``bash .ci/slurm_up.sh`` starts one on this machine (as root,
or with passwordless sudo). Without one the test skips, saying why, unless ``FLANLAB_REQUIRE_SLURM=1`` (``.ci/run``
sets it once the cluster is up): then it fails. There is no accounting (no ``sacct``): job ids come from what
submitit and Hydra write, and ``scontrol`` confirms them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
GRID = ["template=untuned,instruction", "heldout.clusters=[sentiment]", "logger=none", "+debug=tiny", "train.steps=4",
        "train.log_every=2", "train.batch_size=32", "data.max_eval_per_task=4", "data.indist_eval_per_task=2",
        "scoring.best_dev_rows=0", "hydra/launcher=slurm_cpu", "hydra.launcher.timeout_min=10", "hydra/callbacks=sweep"]
ARRAY_TASK = re.compile(r"(\d+)_(\d+)")


def slurm_problem() -> str | None:
    """Why no SLURM grid can run here, or None when partition ``cpu`` is up."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "no SLURM client (sinfo, sbatch) on PATH"
    try:
        proc = subprocess.run(["sinfo", "-h", "-p", "cpu", "-o", "%a %t"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 15 s (no slurmctld?)"
    state = proc.stdout.strip()
    if proc.returncode != 0:
        return f"sinfo failed: {proc.stderr.strip()}"
    if not re.match(r"up\s+(idle|mix|alloc)", state):
        return f"partition cpu is not up and usable (sinfo: {state or 'no such partition'!r})"
    return None


@pytest.fixture(scope="module")
def cluster() -> None:
    problem = slurm_problem()
    if problem is None:
        return
    if os.environ.get("FLANLAB_REQUIRE_SLURM") == "1":
        pytest.fail(f"FLANLAB_REQUIRE_SLURM=1 but {problem}")
    pytest.skip(f"no SLURM cluster: {problem} (start one with `bash .ci/slurm_up.sh`)")


def sweep(root: Path, cache: Path) -> str:
    env = {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(cache), "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "flanlab", "-m", *GRID, f"hydra.sweep.dir={root}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def slurm_jobs(root: Path) -> dict[str, str]:
    """Cell folder -> the SLURM job that ran it last (``hydra.job.id``, which submitit takes from SLURM's
    environment), checked against submitit's log of that job and against ``scontrol``."""
    jobs = {}
    for cell in sorted(p.parent for p in root.glob("*/results.json")):
        job = str(OmegaConf.load(cell / ".hydra" / "hydra.yaml").hydra.job.id)
        assert ARRAY_TASK.fullmatch(job), (cell.name, job)  # <array job>_<task>: a task of a SLURM job array
        log = root / ".submitit" / job / f"{job}_0_log.out"
        assert f"JobEnvironment(job_id={job}, " in log.read_text(), log
        shown = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True, timeout=15)
        assert shown.returncode == 0, shown.stderr
        assert "JobState=COMPLETED" in shown.stdout and "Partition=cpu" in shown.stdout, shown.stdout
        jobs[cell.name] = job
    return jobs


def test_grid_runs_as_a_slurm_job_array_writes_the_report_and_skips_on_rerun(cluster, tmp_path):
    root, cache = tmp_path / "sweep", tmp_path / "cache"
    first = sweep(root, cache)
    assert "2/2 finished: 2 done, 0 skipped, 0 failed" in first
    jobs = slurm_jobs(root)
    assert sorted(name.split("__")[0] for name in jobs) == ["instruction", "untuned"]
    assert len({ARRAY_TASK.fullmatch(j).group(1) for j in jobs.values()}) == 1  # one array, one task per cell
    for name in ("report.json", "report_table.md", "report.html", "figures/template_ablation.png"):
        assert (root / name).is_file(), name
    status = (root / "grid_status.csv").read_text().splitlines()
    assert sorted(status[1:]) == sorted(f"{name},complete," for name in jobs)
    results = {p: p.stat().st_mtime_ns for p in root.glob("*/results.json")}

    again = sweep(root, cache)
    assert "2/2 finished: 0 done, 2 skipped, 0 failed" in again
    assert {p: p.stat().st_mtime_ns for p in root.glob("*/results.json")} == results  # nothing recomputed
    rerun_jobs = slurm_jobs(root)
    assert set(rerun_jobs) == set(jobs) and not set(rerun_jobs.values()) & set(jobs.values())  # new SLURM jobs
