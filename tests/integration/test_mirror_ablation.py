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


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT),
            "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_CACHE": str(tmp_path / "hf")}


def test_the_default_ablation_on_the_mirror_completes_every_cell_oracle_included(tmp_path):
    """``+experiment=ablation tasks=flan_mirror heldout=nli``: every arm, the oracle too. The oracle's dev rows
    (its held-out tasks have no dev split: their first train rows) never train, and the audit reports what the
    oracle may overlap by design (a held-out task's own train split) apart from leaks."""
    cmd = [sys.executable, "-m", "flanlab", "+experiment=ablation", "tasks=flan_mirror", "heldout=nli",
           f"data.mirror_dir={MIRROR_DIR}", "hydra.sweeper.params.seed=0", f"hydra.sweep.dir={tmp_path / 'sweep'}",
           *TINY_MIRROR]
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = tmp_path / "sweep"
    assert not list(sweep.glob("*/failed.json")), [p.read_text()[:500] for p in sweep.glob("*/failed.json")]
    arms = {json.loads(p.read_text())["cell"]["template"] for p in sweep.glob("*/results.json")}
    assert arms == {"oracle", "instruction", "no_template", "dataset_name", "untuned"}
    (oracle,) = sweep.glob("oracle__*/results.json")
    data = json.loads(oracle.read_text())
    audit = data["audit"]
    assert audit["leaks"] == [] and audit["allowed_by_design"]["tasks"] == ["cb", "rte", "scitail", "wnli"]
    for task, rows in data["train"]["rows_per_task"].items():
        assert rows > 0, task
    oracle_audit = json.loads((oracle.parent / "leakage_audit.json").read_text())
    assert oracle_audit["per_task"]["rte"]["dev_rows"] > 0  # dev rows (first train rows) were audited too


def test_unavailable_entries_are_skipped_recorded_and_matched_across_a_sweep(tmp_path):
    """``data.unavailable=skip``: an entry neither the mirror nor the (offline) hub can serve is left out with a
    warning, recorded in results.json, in the cell key and in the report; the sweep's cells match, and a rerun
    skips the complete cells. Under the default ``error`` it is one line."""
    tasks = "tasks.base.tasks=[rte,cb,sst2,rotten_tomatoes,copa,codah,anli_r1]"
    base = [sys.executable, "-m", "flanlab", "tasks=flan_mirror", f"data.mirror_dir={MIRROR_DIR}", tasks,
            "heldout=sentiment", "template=instruction", *TINY_MIRROR]
    error = subprocess.run([*base, f"hydra.run.dir={tmp_path / 'one'}"], cwd=ROOT, env=_env(tmp_path),
                           capture_output=True, text=True, timeout=600)
    assert error.returncode == 2 and "Traceback" not in error.stderr, error.stderr[-2000:]
    assert "flanlab: error: dataset 'anli_r1' split 'train_r1' could not be loaded; tried: mirror " in error.stderr
    assert "hub load_dataset('facebook/anli', name='plain_text', split='train_r1')" in error.stderr
    sweep = [base[0], base[1], base[2], "-m", *base[3:], "seed=0,1", "data.unavailable=skip", "hydra/callbacks=sweep",
             f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    proc = subprocess.run(sweep, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted((tmp_path / "sweep").glob("*/results.json"))
    assert len(files) == 2
    for path in files:
        r = json.loads(path.read_text())
        assert list(r["data"]["unavailable"]["skipped"]) == ["anli_r1"]
        assert r["data"]["unavailable"]["policy"] == "skip" and "anli_r1" not in r["train"]["rows_per_task"]
        assert not path.parent.name.endswith(r["cell"]["key"])  # the folder has the config's key; results add the skip
    record = json.loads((tmp_path / "sweep" / "unavailable_entries.json").read_text())
    assert list(record["skipped"]) == ["anli_r1"] and "rte" in record["loaded"]
    status = (tmp_path / "sweep" / "grid_status.md").read_text()
    assert status.count("left out as unavailable (data.unavailable=skip): anli_r1") == 2
    again = subprocess.run(sweep, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "2 skipped" in again.stdout + again.stderr, again.stdout[-2000:]
