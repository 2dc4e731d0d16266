"""A tiny train-and-score cell in-process, and a 2-cell multirun as a subprocess."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from flanlab.pipeline import run_cell
from tests.conftest import CONF_DIR, ROOT

pytestmark = pytest.mark.slow
TINY = ["+debug=tiny"]  # conf/debug/tiny.yaml


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def _check_scored(saved: dict, kind: str, variant: str, rows: int) -> None:
    """Every template result scored ``rows`` rows, each outcome and the value in [0, 1] (0/1 outcomes and
    their mean for accuracy and exact match)."""
    templates = saved[kind][variant]["templates"]
    assert templates
    for t in templates:
        where = (kind, variant, t["task"], t["template_id"])
        assert t["n"] == rows == len(t["correct"]), where
        assert 0.0 <= t["value"] <= 1.0 and all(0.0 <= c <= 1.0 for c in t["correct"]), where
        if t["metric"] in ("accuracy", "exact_match"):
            assert set(t["correct"]) <= {0.0, 1.0} and math.isclose(t["value"], sum(t["correct"]) / rows), where


def _weather_tasks(folder: Path) -> None:
    """Two learnable custom tasks in two clusters: one keyword in random filler decides the answer."""
    rng = random.Random(0)
    filler = [f"word{i}" for i in range(40)]
    tasks = {"weather": {"sunny": "good", "rainy": "bad"}, "mood": {"glad": "good", "sad": "bad"}}
    for name, keys in tasks.items():
        spec = {"name": name, "cluster": name, "display_name": name, "kind": "classification",
                "input_fields": ["sentence"], "options": ["good", "bad"],
                "splits": {s: f"{name}_{s}.jsonl" for s in ("train", "validation")},
                "templates": [{"id": "ask", "input": "{sentence}\nWas it good or bad?\n{options}"}]}
        (folder / f"{name}.yaml").write_text(json.dumps(spec))
        for split, n in (("train", 400), ("validation", 40)):
            lines = []
            for i in range(n):
                words = rng.sample(filler, 6)
                key = list(keys)[i % 2]
                words.insert(rng.randrange(7), key)
                lines.append(json.dumps({"sentence": " ".join(words), "label": keys[key]}))
            (folder / f"{name}_{split}.jsonl").write_text("\n".join(lines) + "\n")


def test_a_learnable_task_is_learned_above_chance(tmp_path, monkeypatch):
    """In-distribution accuracy on a task a tiny model can learn clears chance (0.5) by a wide margin."""
    (tmp_path / "tasks").mkdir()
    _weather_tasks(tmp_path / "tasks")
    cfg = _compose(["tasks=flan", "tasks.base=null", f"tasks.include=[{{path: {tmp_path / 'tasks'}}}]",
                    "heldout.clusters=[mood]", "template=instruction", "logger=none",
                    "train.steps=80", "train.warmup_steps=10", "train.batch_size=16", "train.log_every=10",
                    "train.progress=false", "data.indist_eval_per_task=40", "data.max_eval_per_task=40",
                    "scoring.best_dev_rows=0", "threads=1", f"paths.cache_dir={tmp_path / 'cache'}"])
    saved = run_cell(cfg, tmp_path / "cell")
    assert saved["train"]["rows_per_task"] == {"weather": 400}
    _check_scored(saved, "indist", "instruction", rows=40)
    _check_scored(saved, "zeroshot", "instruction", rows=40)
    losses = [loss for _, loss in saved["train"]["losses"]]
    assert sum(losses[-3:]) / 3 < 0.5 * sum(losses[:3]) / 3
    assert saved["metrics"]["indist/instruction/mean"] >= 0.8


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
        _check_scored(saved, "zeroshot", variant, rows=6)
    _check_scored(saved, "indist", "dataset_name", rows=4)
    losses = [loss for _, loss in saved["train"]["losses"]]
    assert [step for step, _ in saved["train"]["losses"]] == [4, 8, 12] and losses[-1] < losses[0]
    assert saved["audit"]["exact_duplicates"] == 0 and saved["audit"]["leaks"] == []
    assert set(saved["audit"]["per_task"]) == set(saved["audit"]["heldout_tasks"])
    runs = list((tmp_path / "cell" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1 and runs[0].stat().st_size > 0


def test_two_cell_multirun_subprocess_writes_two_results(tmp_path):
    env = {**os.environ, "WANDB_MODE": "disabled", "FLANLAB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "flanlab", "-m", "template=untuned,instruction", "heldout=sentiment", "logger=none",
           f"hydra.sweep.dir={tmp_path / 'sweep'}",
           "+hydra.callbacks.report._target_=flanlab.analysis.report_callback.SweepReport",
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
