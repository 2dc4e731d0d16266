"""The ablation on the offline FLAN mirror, as a real Hydra multirun subprocess (tiny model, few steps)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MIRROR_DIR, ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not MIRROR_DIR.is_dir(), reason=f"flan mirror not found at {MIRROR_DIR}")]
TINY_MIRROR = [
    "tasks.base.train_cap=48", "tasks.base.eval_cap=12", "train.steps=8", "train.log_every=4", "train.batch_size=8",
    "train.progress=false", "data.max_eval_per_task=4", "data.indist_eval_per_task=2", "threads=1", "logger=none",
    "scoring.max_new_tokens=4",
]


def test_mirror_ablation_multirun_holds_out_clusters_and_reports(tmp_path):
    env = {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT),
           "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_CACHE": str(tmp_path / "hf")}
    cmd = [sys.executable, "-m", "flanlab", "+experiment=ablation", "tasks=flan_mirror",
           f"data.mirror_dir={MIRROR_DIR}",
           "hydra.sweeper.params.template=instruction", "hydra.sweeper.params.heldout='nli,closed_book_qa'",
           "hydra.sweeper.params.seed=0",  # one seed: the two held-out cells are what this test checks
           f"hydra.sweep.dir={tmp_path / 'sweep'}", *TINY_MIRROR]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = sorted(Path(tmp_path / "sweep").rglob("results.json"))
    assert len(results) == 2, results
    cells = {json.loads(p.read_text())["cell"]["heldout"][0]: json.loads(p.read_text()) for p in results}
    assert set(cells) == {"nli", "closed_book_qa"}
    nli = cells["nli"]
    assert nli["split"]["removed"] == {"paraphrase": "related to held-out cluster 'nli'"}
    assert "wsc273" in nli["split"]["removed_tasks"]  # shares the Winograd sentences with wnli
    trained = set(nli["train"]["rows_per_task"])
    assert trained and not trained & {"rte", "cb", "wnli", "scitail", "mrpc", "wsc273"}
    assert {t["task"] for t in nli["zeroshot"]["instruction"]["templates"]} == {"rte", "cb", "wnli", "scitail"}
    cbqa = cells["closed_book_qa"]
    assert {t["task"] for t in cbqa["zeroshot"]["instruction"]["templates"]} == {"nq_open", "web_questions"}
    assert "nq_open" not in cbqa["train"]["rows_per_task"]
    assert "Zero-shot score on held-out clusters" in proc.stdout
