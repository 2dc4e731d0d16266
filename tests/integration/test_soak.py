"""Soak: a tiny ablation grid, SIGKILLed at random points twice over, then rerun, reports exactly what an
uninterrupted run of the same cells reports.

The grid (untuned + instruction, sentiment held out) runs as ``python -m flanlab -m ...`` in its own process
group; each kill is SIGKILL to the whole group, a seeded random delay after a point of progress: the first
training checkpoint (checkpoints every 4 steps, so the kill lands mid-training or mid-checkpoint), then the
first complete cell (the kill lands in the second cell). The reference runs the same two cells in this
process without interruption.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from flanlab.analysis.sweep_report import build_report
from flanlab.pipeline import run_cell
from tests.conftest import CONF_DIR, ROOT

pytestmark = pytest.mark.slow
SEED = 20260808  # kill delays are drawn from this seed, so the schedule is reproducible
VARIANTS = ("instruction", "untuned")  # sweep order: the trained cell first
CELL = ["+debug=tiny", "tasks.train_rows=48", "tasks.eval_rows=8", "train.steps=8", "train.checkpoint_every=4",
        "data.max_eval_per_task=4", "data.indist_eval_per_task=2",
        "template.eval_variants=[instruction]", "heldout=sentiment", "logger=none"]


def _command(sweep_dir: Path) -> list[str]:
    return [sys.executable, "-m", "flanlab", "-m", f"template={','.join(VARIANTS)}", f"hydra.sweep.dir={sweep_dir}",
            *CELL]


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(cache), "PYTHONPATH": str(ROOT)}


def _kill_when(sweep_dir: Path, cache: Path, started: str, delay: float, log: Path) -> int:
    """Start the grid; once a path matching ``started`` exists, wait ``delay`` s, SIGKILL the group; the exit code."""
    with log.open("a") as out:
        proc = subprocess.Popen(_command(sweep_dir), cwd=ROOT, env=_env(cache), stdout=out, stderr=out,
                                start_new_session=True)
        deadline = time.monotonic() + 300
        while proc.poll() is None and not list(sweep_dir.glob(started)) and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            return proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait()


def _tables(root: Path) -> dict[str, pd.DataFrame]:
    report = build_report(root, n_resamples=200)
    return {"ablation": report.ablation, "wide": report.wide, "indist": report.indist}


def test_killed_twice_then_rerun_reports_what_an_uninterrupted_run_reports(tmp_path):
    cache = tmp_path / "cache"
    reference = tmp_path / "reference"
    for variant in VARIANTS:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=[*CELL, f"template={variant}", f"paths.cache_dir={cache}"])
        run_cell(cfg, reference / variant)

    rng = random.Random(SEED)
    soak, log = tmp_path / "soak", tmp_path / "soak.log"
    codes, done = [], []
    # Kill 1: while the instruction cell trains (after its first checkpoint); kill 2: after the rerun has resumed
    # and finished that cell, while the untuned cell runs.
    for started, most in (("*/checkpoints/step_*", 1.0), ("*/results.json", 0.5)):
        codes.append(_kill_when(soak, cache, started, rng.uniform(0.0, most), log))
        done.append(len(list(soak.glob("*/results.json"))))
    print(f"soak: exit codes {codes}, complete cells after each kill {done}")
    assert codes == [-signal.SIGKILL] * 2 and done == [0, 1], log.read_text()[-3000:]
    final = subprocess.run(_command(soak), cwd=ROOT, env=_env(cache), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-3000:]

    assert sorted(p.parent.name.split("__")[0] for p in soak.glob("*/results.json")) == sorted(VARIANTS)
    status = build_report(soak, n_resamples=10).status
    assert set(status["state"]) == {"complete"}, status
    expected, got = _tables(reference), _tables(soak)
    for name in expected:
        assert not expected[name].empty, name
        pd.testing.assert_frame_equal(got[name], expected[name], check_exact=True, obj=name)
