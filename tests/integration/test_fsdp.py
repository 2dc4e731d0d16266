"""FSDP on CPU: 2 gloo processes with ``train.parallel=fsdp`` (FSDP2 ``fully_shard`` per T5 block) match DDP, and
rank 0 gets back a whole model that scores like the DDP one; a LoRA-wrapped model trains under FSDP too.

One torchrun runs four fits in one process group (DDP and FSDP, each with and without LoRA), so the processes
start once; between fits the group is kept instead of torn down. Tolerance: losses and every option's
log-likelihood within 1e-4, and the same pick (rank classification) on every scored row.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf

from tests.conftest import CONF_DIR, ROOT

pytestmark = pytest.mark.slow
TOLERANCE = 1e-4
RUNS = {"ddp": ("ddp", False), "fsdp": ("fsdp", False), "ddp_lora": ("ddp", True), "fsdp_lora": ("fsdp", True)}
WORKER = "import sys; from tests.integration.test_fsdp import fit_all; fit_all(sys.argv[1])"


class Quiet:
    def log(self, metrics: dict, step: int | None = None) -> None:
        pass


def rows() -> tuple[list[list[int]], list[list[int]]]:
    rng = random.Random(0)
    ids = [[rng.randrange(3, 64) for _ in range(rng.randrange(3, 15))] + [1] for _ in range(64)]
    return ids, [[i[0], i[1], 1] for i in ids]


def fit_one(parallel: str, lora: bool):
    """A tiny T5 (seed 0) trained 6 steps at 4 rows per process; returns the loaded model after ``fit``."""
    import datasets
    from transformers import T5Config, T5ForConditionalGeneration

    from flanlab.models.load import LoadedModel
    from flanlab.models.peft import apply_peft
    from flanlab.training.loop import fit

    torch.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(vocab_size=64, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                                                dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
                                                decoder_start_token_id=0))
    loaded = LoadedModel(model, type("Tok", (), {"pad_token_id": 0})(), "seq2seq", "t")
    if lora:
        loaded = apply_peft(loaded, OmegaConf.merge(OmegaConf.load(CONF_DIR / "train" / "peft" / "lora.yaml"),
                                                    {"dropout": 0.0}))  # ranks would draw different masks
    ids, labels = rows()
    cfg = OmegaConf.merge(OmegaConf.load(CONF_DIR / "train" / "default.yaml"), {
        "steps": 6, "batch_size": 4, "warmup_steps": 2, "log_every": 1, "progress": False, "lr": 3e-3,
        "batching": "bucketed", "parallel": parallel})
    result = fit(loaded, datasets.Dataset.from_dict({"input_ids": ids, "labels": labels}), cfg, Quiet(), seed=0)
    return loaded, result.losses


@torch.no_grad()
def option_logliks(model: torch.nn.Module) -> list[list[float]]:
    """Rank classification on 16 rows: the summed log-likelihood of the true target and of another row's."""
    ids, labels = rows()
    out = []
    for i in range(16):
        scores = []
        for target in (labels[i], labels[(i + 7) % len(labels)]):
            loss = model(input_ids=torch.tensor([ids[i]]), labels=torch.tensor([target])).loss
            scores.append(-float(loss) * len(target))
        out.append(scores)
    return out


def describe(model: torch.nn.Module) -> dict[str, Any]:
    """What rank 0 got back: class, parameter count, whether any parameter is still a shard, adapter norms."""
    from torch.distributed.tensor import DTensor

    params = dict(model.named_parameters())
    return {"class": type(model).__name__, "parameters": sum(p.numel() for p in params.values()),
            "sharded": any(isinstance(p, DTensor) for p in params.values()),
            "lora_b_norm": sum(float(p.norm()) for n, p in params.items() if "lora_B" in n)}


def fit_all(out: str) -> None:
    """Every fit of ``RUNS`` in one process group; rank 0 writes losses, the model it holds and its scores."""
    from flanlab.training import distributed

    torch.set_num_threads(1)
    keep_group, teardown = (lambda: None), distributed.teardown
    distributed.teardown = keep_group  # fit() would leave the group after each run
    found = {}
    for name, (parallel, lora) in RUNS.items():
        loaded, losses = fit_one(parallel, lora)
        if distributed.is_main():
            model = loaded.model.eval()
            found[name] = {"losses": losses, "model": describe(model), "scores": option_logliks(model)}
    distributed.teardown = teardown
    teardown()
    if found:
        Path(out).write_text(json.dumps(found))


@pytest.fixture(scope="module")
def fits(tmp_path_factory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("fsdp") / "rank0.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "--no-python",
           sys.executable, "-c", WORKER, str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def assert_same_training(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert [s for s, _ in a["losses"]] == [s for s, _ in b["losses"]] == list(range(1, 7))
    assert all(abs(x - y) < TOLERANCE for (_, x), (_, y) in zip(a["losses"], b["losses"], strict=True))
    for sa, sb in zip(a["scores"], b["scores"], strict=True):
        assert all(abs(x - y) < TOLERANCE for x, y in zip(sa, sb, strict=True)), (sa, sb)
        assert max(range(2), key=sa.__getitem__) == max(range(2), key=sb.__getitem__)  # the same pick


def test_fsdp_matches_ddp_and_rank0_scores_a_whole_model(fits):
    ddp, fsdp = fits["ddp"], fits["fsdp"]
    assert_same_training(ddp, fsdp)
    assert fsdp["model"] == {**ddp["model"], "sharded": False}  # the whole model, no shard left, same class
    assert ddp["losses"][-1][1] < ddp["losses"][0][1]  # it trained


def test_fsdp_trains_a_lora_model_and_rank0_gets_its_adapters(fits):
    ddp, fsdp = fits["ddp_lora"], fits["fsdp_lora"]
    assert_same_training(ddp, fsdp)
    assert fsdp["model"]["class"] == "PeftModelForSeq2SeqLM" and not fsdp["model"]["sharded"]
    assert fsdp["model"]["parameters"] == ddp["model"]["parameters"] > fits["fsdp"]["model"]["parameters"]
    assert fsdp["model"]["lora_b_norm"] == pytest.approx(ddp["model"]["lora_b_norm"], abs=TOLERANCE)
    assert fsdp["model"]["lora_b_norm"] > 0  # LoRA's B starts at zero: the adapters trained and came back
