"""Real multiruns as subprocesses: resume (skip complete, rerun deleted/failed), failure isolation, submitit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from flanlab.analysis.sweep_report import build_report
from tests.conftest import ROOT
from tests.integration.test_end_to_end import TINY

pytestmark = pytest.mark.slow
# The data.bad_rows=error cells fail while they run, on odd_boxes' train row without options; the checks before the
# sweep cannot see rows, so the sweep starts and isolates them. (A bad config value would stop it before any cell.)
GRID = ["template=untuned,instruction", "data.bad_rows=skip,error", "heldout.clusters=[sentiment]",
        f"tasks.include=[{{path: {ROOT / 'tests' / 'fixtures' / 'sweep_bad_row'}}}]"]
CALLBACKS = ["+hydra.callbacks.progress._target_=flanlab.sweeps.progress.SweepProgress"]


def sweep(sweep_dir: Path, *extra: str, cache: Path, grid: list[str] = GRID) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "flanlab", "-m", *grid, "logger=none", f"hydra.sweep.dir={sweep_dir}", *CALLBACKS,
           *TINY, *extra]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def mtimes(sweep_dir: Path) -> dict[str, float]:
    return {p.parent.name: p.stat().st_mtime_ns for p in sweep_dir.glob("*/results.json")}


def test_rerun_skips_complete_cells_and_reruns_deleted_and_failed(tmp_path):
    root = tmp_path / "sweep"
    first = sweep(root, cache=tmp_path / "cache")
    assert "[sweep] 4 cells" in first.stdout
    assert "4/4 finished: 2 done, 0 skipped, 2 failed" in first.stdout  # bad_rows=error cells fail, the others go on
    before = mtimes(root)
    assert sorted(n.split("__")[0] for n in before) == ["instruction", "untuned"]
    failed = sorted(p.parent for p in root.glob("*/failed.json"))
    assert len(failed) == 2 and not any((p / "results.json").exists() for p in failed)
    for folder in failed:
        assert "'odd_boxes' split 'train' row 3 has no answer options" in \
            json.loads((folder / "failed.json").read_text())["message"]
        assert OmegaConf.load(folder / ".hydra" / "config.yaml").data.bad_rows == "error"

    deleted = next(n for n in before if n.startswith("instruction__"))
    (root / deleted / "results.json").unlink()
    second = sweep(root, cache=tmp_path / "cache")
    after = mtimes(root)
    assert set(after) == set(before)
    changed = {n for n in after if after[n] != before[n]}
    assert changed == {deleted}  # only the deleted cell trained again
    assert "4/4 finished: 1 done, 1 skipped, 2 failed" in second.stdout
    assert second.stdout.count("skipping cell") == 1

    report = build_report(root, n_resamples=100)
    states = report.status["state"].value_counts().to_dict()
    assert states == {"complete": 2, "failed": 2}
    assert set(report.ablation["train_variant"]) == {"untuned", "instruction"}


def test_submitit_local_launcher_runs_cells_and_isolates_failures(tmp_path):
    root = tmp_path / "sweep"
    shutil.rmtree(root, ignore_errors=True)
    grid = ["template=untuned", *GRID[1:]]
    sweep(root, "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10", cache=tmp_path / "cache", grid=grid)
    names = sorted(p.parent.name for p in root.glob("*/results.json"))
    assert len(names) == 1 and len(list(root.glob("*/failed.json"))) == 1
    assert list(root.glob(".submitit/*"))
    data = json.loads((root / names[0] / "results.json").read_text())
    assert names[0].endswith("__" + data["cell"]["key"])
