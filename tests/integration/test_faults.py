"""Faults met in the middle of a run, through the real entry point (``python -m flanlab``): each expected class ends
in one ``flanlab: error:`` line naming the cell, with exit code 2 and no traceback; a sweep cell's ``failed.json``
records the same line (issue 25). Memory and disk faults are raised where they would really happen, by a wrapper
that patches one function and then calls the entry point, as tests/integration/test_resume.py does for SIGKILL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
CELL = ["+debug=tiny", "logger=none", "heldout=sentiment", "template=instruction", "tasks.train_rows=32"]
CELL_NAME = "instruction__sentiment__s0"
WRAPPER = """
import errno, sys, torch
import flanlab.pipeline, flanlab.results, flanlab.training.checkpoint, flanlab.training.loop
from flanlab.__main__ import cli
{patch}
sys.argv = ["flanlab", *sys.argv[1:]]
cli()
"""
PATCHES = {
    "oom_train": """
_step = flanlab.training.loop.train_step
def train_step(run, cfg, counts, window, arch):
    if run.sampler.state_dict().get("step", 0) >= 2 or counts["flops"] > 0:
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 68719476736 bytes. Error code 12 (Cannot allocate memory)")
    return _step(run, cfg, counts, window, arch)
flanlab.training.loop.train_step = train_step
""",
    "oom_scoring": """
def score_variant(*args, **kwargs):
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
flanlab.pipeline.score_variant = score_variant
""",
    "disk_checkpoint": """
def write_verified(state, folder):
    raise OSError(errno.ENOSPC, "No space left on device", str(folder / "state.pt"))
flanlab.training.checkpoint.write_verified = write_verified
""",
    "disk_results": """
_write = flanlab.results.atomic_write_json  # results.json's one writer (flanlab.results.save_cell_results)
def atomic_write_json(path, data):
    if path.name == "results.json":
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    return _write(path, data)
flanlab.results.atomic_write_json = atomic_write_json
""",
}


def _run(args: list[str], tmp_path: Path, patch: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    env.pop("HYDRA_FULL_ERROR", None)
    head = [sys.executable, "-c", WRAPPER.format(patch=PATCHES[patch])] if patch else [sys.executable, "-m", "flanlab"]
    flags = [a for a in args if a == "-m"]  # Hydra reads -m before the overrides
    command = [*head, *flags, *CELL, *(a for a in args if a != "-m")]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _one_line(proc: subprocess.CompletedProcess) -> str:
    """The run's one error line; asserts exit code 2 and no traceback."""
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "HYDRA_FULL_ERROR" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("flanlab: error:")]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


def test_a_diverged_loss_is_one_line_with_step_lr_and_clip_and_leaves_no_results(tmp_path):
    line = _one_line(_run(["train.lr=1e30", f"hydra.run.dir={tmp_path / 'cell'}"], tmp_path))
    assert re.match(rf"flanlab: error: cell {CELL_NAME}: the training (loss|gradient norm) became (nan|inf).* at step "
                    r"\d+ \(lr ", line), line
    assert "(lr " in line and "train.clip_norm 1.0); lower train.lr (now 1e+30)" in line
    assert "train.on_nonfinite=skip_batch" in line
    assert not (tmp_path / "cell" / "results.json").exists()


def test_a_sweep_cell_that_diverges_records_the_same_line_in_failed_json(tmp_path):
    proc = _run(["-m", "train.lr=1e30", f"hydra.sweep.dir={tmp_path / 'sweep'}"], tmp_path)
    (failed,) = list((tmp_path / "sweep").glob("*/failed.json"))
    record = json.loads(failed.read_text())
    assert re.match(rf"flanlab: error: cell {CELL_NAME}: the training (loss|gradient norm) became", record["line"])
    assert record["error"] == "RunFault" and record["line"] in proc.stderr + proc.stdout
    assert not (failed.parent / "results.json").exists()


@pytest.mark.parametrize(("patch", "says"), [
    ("oom_train", "out of memory on cpu while training at step 2; lower train.batch_size (now 8) and raise "
                  "train.grad_accum to keep the global batch, or lower train.max_input_len (now 128)"),
    ("oom_scoring", "out of memory on cpu while scoring the held-out rows with variant 'instruction'; lower "
                    "scoring.batch_size (now "),
    ("disk_checkpoint", "no space left on the device writing the step-12 checkpoint '"),
    ("disk_results", "no space left on the device writing a file of the cell '"),
])
def test_memory_and_disk_faults_are_one_line(tmp_path, patch, says):
    line = _one_line(_run([f"hydra.run.dir={tmp_path / 'cell'}", "train.checkpoint_every=0"], tmp_path, patch))
    assert line.startswith(f"flanlab: error: cell {CELL_NAME}: {says}"), line
    assert not (tmp_path / "cell" / "results.json").exists()


def test_an_unexpected_error_keeps_its_traceback(tmp_path):
    """A bug is not a fault the user can act on: its traceback stays."""
    PATCHES["bug"] = """
def score_variant(*args, **kwargs):
    raise ZeroDivisionError("a bug")
flanlab.pipeline.score_variant = score_variant
"""
    proc = _run([f"hydra.run.dir={tmp_path / 'cell'}"], tmp_path, "bug")
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "ZeroDivisionError: a bug" in proc.stderr
    assert "flanlab: error:" not in proc.stderr
