"""torchrun with 2 gloo processes trains to the same losses as 1 process with the same global batch.

Tolerance: every logged loss within 1e-4 (absolute). The loss is normalised by the global batch's
target-token count, so the two layouts differ only in floating-point summation order.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
import torch
from omegaconf import OmegaConf
from transformers import T5Config, T5ForConditionalGeneration

from flanlab.models.load import LoadedModel
from flanlab.training import distributed
from flanlab.training.loop import fit
from tests.conftest import CONF_DIR, ROOT

pytestmark = pytest.mark.slow
TOLERANCE = 1e-4
WORKER = "import sys; from tests.integration.test_ddp import train_tiny; train_tiny(sys.argv[1], int(sys.argv[2]))"


class Recorder:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def log(self, metrics: dict, step: int | None = None) -> None:
        self.rows.append(metrics)


def train_tiny(out: str, batch_size: int) -> dict:
    """Train a tiny T5 for 8 steps; write this rank's losses to ``out/rank<R>.json``."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(vocab_size=64, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                                                dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
                                                decoder_start_token_id=0))
    rng = random.Random(0)
    ids = [[rng.randrange(3, 64) for _ in range(rng.randrange(3, 15))] + [1] for _ in range(64)]
    data = datasets.Dataset.from_dict({"input_ids": ids, "labels": [[i[0], i[1], 1] for i in ids]})
    cfg = OmegaConf.merge(OmegaConf.load(CONF_DIR / "train" / "default.yaml"), {
        "steps": 8, "batch_size": batch_size, "warmup_steps": 2, "log_every": 1, "progress": False, "lr": 3e-3,
        "batching": "bucketed", "checkpoint_every": 4})
    rank, is_main, tracker = distributed.rank(), distributed.is_main(), Recorder()
    res = fit(LoadedModel(model, type("Tok", (), {"pad_token_id": 0})(), "seq2seq", "t"), data, cfg, tracker,
              seed=0, checkpoint_dir=os.path.join(out, "ckpt"))
    row = {"losses": res.losses, "global_batch": res.global_batch, "logged": len(tracker.rows), "main": is_main}
    Path(out, f"rank{rank}.json").write_text(json.dumps(row))
    return row


def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path):
    one = train_tiny(str(tmp_path / "one"), batch_size=8)  # 1 process, in this one
    out = tmp_path / "two"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "--no-python", sys.executable, "-c", WORKER, str(out), "4"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two = {p.stem: json.loads(p.read_text()) for p in out.glob("rank*.json")}
    assert one["global_batch"] == two["rank0"]["global_batch"] == 8
    for (s1, a), (s2, b) in zip(one["losses"], two["rank0"]["losses"], strict=True):
        assert s1 == s2 and abs(a - b) < TOLERANCE, (s1, a, b)
    assert two["rank0"]["logged"] == 8 and two["rank1"]["logged"] == 0  # only rank 0 logs ...
    assert two["rank0"]["main"] and not two["rank1"]["main"]
    assert [p.name for p in (out / "ckpt").iterdir()] == ["step_00000008"]  # ... and writes checkpoints
