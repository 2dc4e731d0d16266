"""SIGKILL a training subprocess right after a checkpoint, rerun it, and get the uninterrupted results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from flanlab.pipeline import run_cell
from tests.conftest import CONF_DIR, ROOT

pytestmark = pytest.mark.slow
CELL = [
    "+debug=tiny", "tasks.train_rows=48", "train.log_every=2", "train.checkpoint_every=4",
    "logger=none", "heldout=sentiment", "template=instruction", "model.config.dropout_rate=0.1",
]
# Runs the real entry point, but SIGKILLs its own process right after the step-8 checkpoint is on disk.
KILLER = """
import os, signal, sys
import flanlab.training.checkpoint as ckpt
from flanlab.__main__ import main
_save = ckpt.save
def save(root, step, state, keep=1):
    path = _save(root, step, state, keep)
    if step == 8:
        os.kill(os.getpid(), signal.SIGKILL)
    return path
ckpt.save = save
sys.argv = ["flanlab", *sys.argv[1:]]
main()
"""


def _run(args: list[str], tmp_path: Path, script: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    head = [sys.executable, "-c", script] if script else [sys.executable, "-m", "flanlab"]
    return subprocess.run([*head, *CELL, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("damaged", [False, True], ids=["intact", "newest_damaged"])
def test_killed_run_resumes_to_the_same_loss_and_metrics(tmp_path, monkeypatch, damaged):
    """Killed after the step-8 checkpoint, the rerun resumes there; with that checkpoint damaged (cut short, as by
    a killed copy), it warns, resumes from step 4 instead, and still ends where the uninterrupted run ended."""
    keep = ["train.keep_checkpoints=2"] if damaged else []
    monkeypatch.setenv("FLANLAB_CACHE", str(tmp_path / "cache"))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):  # the uninterrupted run, in-process
        run_cell(compose(config_name="config", overrides=[*CELL, *keep]), tmp_path / "whole")

    cell = tmp_path / "killed"
    killed = _run([f"hydra.run.dir={cell}", *keep], tmp_path, script=KILLER)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (cell / "results.json").exists()
    kept = sorted(p.name for p in (cell / "checkpoints").iterdir() if not p.name.startswith("."))
    assert kept == (["step_00000004", "step_00000008"] if damaged else ["step_00000008"])
    if damaged:
        state = cell / "checkpoints" / "step_00000008" / "state.pt"
        state.write_bytes(state.read_bytes()[:1000])

    resumed = _run([f"hydra.run.dir={cell}", *keep], tmp_path)  # resume=auto picks up the newest readable one
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a = json.loads((tmp_path / "whole" / "results.json").read_text())
    b = json.loads((cell / "results.json").read_text())
    assert b["train"]["resumed_from"] == (4 if damaged else 8) and a["train"]["resumed_from"] is None
    if damaged:
        assert "step_00000008 cannot be read" in resumed.stdout + resumed.stderr
    assert b["train"]["losses"] == a["train"]["losses"]
    assert b["train"]["final_loss"] == a["train"]["final_loss"]
    assert b["metrics"] == a["metrics"] and a["metrics"]

