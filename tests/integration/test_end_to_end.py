"""A tiny train-and-score cell in-process, and a 2-cell multirun as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from flanlab.pipeline import run_cell
from tests.conftest import CONF_DIR, ROOT

pytestmark = pytest.mark.slow
TINY = [
    "tasks.train_rows=64", "tasks.eval_rows=16", "train.steps=12", "train.log_every=4", "train.batch_size=8",
    "train.progress=false", "data.max_eval_per_task=6", "data.indist_eval_per_task=4", "threads=1",
]


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def test_tiny_cell_trains_scores_and_writes_wandb_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    cfg = _compose([*TINY, "heldout=sentiment", "template=dataset_name", f"paths.cache_dir={tmp_path / 'cache'}"])
    results = run_cell(cfg, tmp_path / "cell")
    saved = json.loads((tmp_path / "cell" / "results.json").read_text())
    assert saved["metrics"] == results["metrics"]
    assert saved["split"]["heldout"] == ["sentiment"]
    assert not any(t.startswith("sent") for t in saved["train"]["rows_per_task"])
    assert set(saved["zeroshot"]) == {"dataset_name", "instruction"}
    for variant in ("dataset_name", "instruction"):
        assert 0.0 <= results["metrics"][f"zeroshot/{variant}/mean"] <= 1.0
    assert results["metrics"]["indist/dataset_name/mean"] >= 0.0
    losses = [loss for _, loss in saved["train"]["losses"]]
    assert losses[-1] < losses[0]
    runs = list((tmp_path / "cell" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1 and runs[0].stat().st_size > 0


def test_two_cell_multirun_subprocess_writes_two_results(tmp_path):
    env = {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "flanlab", "-m", "template=untuned,instruction", "heldout=sentiment", "logger=none",
           f"hydra.sweep.dir={tmp_path / 'sweep'}",
           "+hydra.callbacks.report._target_=flanlab.analysis.callback.AblationReport",
           *TINY]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = sorted(Path(tmp_path / "sweep").rglob("results.json"))
    assert len(results) == 2
    variants = {json.loads(p.read_text())["cell"]["train_variant"] for p in results}
    assert variants == {"untuned", "instruction"}
    table = (tmp_path / "sweep" / "ablation_table.csv").read_text().splitlines()
    assert table[0].startswith("train_variant,eval_variant,sentiment,mean")
    assert any(line.startswith("instruction,instruction,") for line in table)
    assert "Zero-shot score on held-out clusters" in proc.stdout
