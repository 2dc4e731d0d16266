"""Two torchrun "nodes" on one machine (``--nnodes 2 --nproc_per_node 1``, node ranks 0 and 1, a c10d rendezvous on
localhost) train one tiny cell through ``python -m flanlab``: both ranks find the same cell folder without a
hand-passed ``hydra.run.dir``, and losses and scores equal one process with the same global batch.

Tolerance: every logged loss and every option's log-likelihood within 1e-4 (the loss is normalised by the global
batch's target tokens, so the layouts differ only in floating-point summation order); the same picks.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from flanlab.sweeps.keys import cell_dir
from tests.conftest import CONF_DIR, ROOT

pytestmark = pytest.mark.slow
TOLERANCE = 1e-4
GLOBAL_BATCH = 8
# Instruction-trained, sentiment held out: 6 steps of the tiny T5, 4 held-out rows per task, one scoring variant.
CELL = ["template=instruction", "heldout.clusters=[sentiment]", "logger=none", "+debug=tiny", "train.steps=6",
        "train.log_every=2", "train.warmup_steps=2", "data.max_eval_per_task=4", "data.indist_eval_per_task=2",
        "scoring.best_dev_rows=0"]
HALF = [*CELL, f"train.batch_size={GLOBAL_BATCH // 2}"]


def compose_cell(overrides: list[str]) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_nodes(workdir: Path, cache: Path, overrides: list[str]) -> list[str]:
    """Both torchrun "nodes" at once in ``workdir``; asserts each exits 0 and returns their outputs."""
    workdir.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLANLAB_CACHE": str(cache), "OMP_NUM_THREADS": "1",
           "WANDB_MODE": "disabled"}
    rdzv = ["--rdzv_backend", "c10d", "--rdzv_endpoint", f"localhost:{free_port()}"]
    procs = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
                               "--node_rank", str(rank), *rdzv, "-m", "flanlab", *overrides], cwd=workdir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for rank in (0, 1)]
    try:
        outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out[-4000:]
    return outputs


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[dict[str, Any], Path, list[str]]:
    """The cell in this process with the whole global batch, then on two nodes with half each (sharing the cache,
    so the tokenizer is trained once): the single run's results, the two-node working folder and outputs."""
    from flanlab.pipeline import run_cell

    tmp = tmp_path_factory.mktemp("multinode")
    single = run_cell(compose_cell([*CELL, f"train.batch_size={GLOBAL_BATCH}", f"paths.cache_dir={tmp / 'cache'}"]),
                      tmp / "single")
    return single, tmp / "nodes", two_nodes(tmp / "nodes", tmp / "cache", HALF)


def predictions(results: dict[str, Any], kind: str) -> list[tuple[tuple[str, ...], list[float]]]:
    """Every scored example: ((task, template, picked option, generated text), option log-likelihoods)."""
    return [((t["task"], t["template_id"], p["picked"], p["text"]), p["loglik"])
            for block in results[kind].values() for t in block["templates"] for p in t["predictions"]]


def assert_scores_match(a: dict[str, Any], b: dict[str, Any]) -> None:
    for kind in ("zeroshot", "indist"):
        pa, pb = predictions(a, kind), predictions(b, kind)
        assert len(pa) == len(pb) > 0
        for (ida, la), (idb, lb) in zip(pa, pb, strict=True):
            assert ida == idb
            assert len(la) == len(lb) and all(abs(x - y) < TOLERANCE for x, y in zip(la, lb, strict=True)), ida
    scores = [k for k in a["metrics"] if k.startswith(("zeroshot/", "indist/"))]
    assert scores and all(a["metrics"][k] == b["metrics"][k] for k in scores)


def test_two_nodes_share_one_cell_folder_and_match_one_process(runs):
    single, workdir, outputs = runs
    folder = workdir / "outputs" / "default" / cell_dir(compose_cell(HALF))
    made = sorted(p for p in (workdir / "outputs" / "default").iterdir())
    assert made == [folder]  # each rank's Hydra made its run folder: one name, derived alike
    two = json.loads((folder / "results.json").read_text())
    assert two["config"]["train"]["batch_size"] == GLOBAL_BATCH // 2
    assert single["train"]["global_batch"] == two["train"]["global_batch"] == GLOBAL_BATCH
    assert len(single["train"]["losses"]) == len(two["train"]["losses"]) == 3
    for (s1, x), (s2, y) in zip(single["train"]["losses"], two["train"]["losses"], strict=True):
        assert s1 == s2 and abs(x - y) < TOLERANCE, (s1, x, y)
    assert_scores_match(single, two)  # rank 0 scored the model both ranks trained
    assert sum("zeroshot/instruction/mean" in out for out in outputs) == 1  # only rank 0 scored and reported
