"""One tiny cell trained through the real entry point under torchrun, and the same cell in one process
(test_multinode.py, through the fixtures in conftest.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from flanlab.sweeps.keys import cell_dir
from tests.conftest import CONF_DIR, ROOT

TOLERANCE = 1e-4
GLOBAL_BATCH = 8
# Instruction-trained, sentiment held out: 6 steps of the tiny T5, 4 held-out rows per task, one scoring variant.
CELL = ["template=instruction", "heldout.clusters=[sentiment]", "logger=none", "tasks.train_rows=64",
        "tasks.eval_rows=16", "train.steps=6", "train.log_every=2", "train.warmup_steps=2", "train.progress=false",
        "data.max_eval_per_task=4", "data.indist_eval_per_task=2", "scoring.best_dev_rows=0", "threads=1"]


def compose_cell(overrides: list[str]) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cell_env(cache: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "FLANLAB_CACHE": str(cache), "OMP_NUM_THREADS": "1",
            "WANDB_MODE": "disabled"}


def torchrun(launch: list[list[str]], overrides: list[str], workdir: Path, cache: Path,
             timeout: int = 300) -> list[str]:
    """Start one ``torchrun ... -m flanlab <overrides>`` per entry of ``launch`` (its torchrun flags), all at once,
    in ``workdir``; assert each exits 0 and return their outputs."""
    workdir.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", *flags, "-m", "flanlab", *overrides],
                              cwd=workdir, env=cell_env(cache), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for flags in launch]
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=timeout)[0])
    finally:
        for proc in procs:
            proc.kill()
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out[-4000:]
    return outputs


def two_nodes(port: int) -> list[list[str]]:
    """Two single-process torchrun "nodes" meeting at a c10d rendezvous on localhost."""
    return [["--nnodes", "2", "--nproc_per_node", "1", "--node_rank", str(rank), "--rdzv_backend", "c10d",
             "--rdzv_endpoint", f"localhost:{port}"] for rank in (0, 1)]


def cell_folders(workdir: Path) -> list[Path]:
    """Every run folder the entry point made under ``workdir`` (experiment ``default``)."""
    return sorted(p for p in (workdir / "outputs" / "default").iterdir() if p.is_dir())


def expected_folder(workdir: Path, overrides: list[str]) -> Path:
    return workdir / "outputs" / "default" / cell_dir(compose_cell(overrides))


def read_results(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "results.json").read_text())


def assert_losses_match(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Same logged steps, every loss within ``TOLERANCE``, the same global batch."""
    assert a["train"]["global_batch"] == b["train"]["global_batch"] == GLOBAL_BATCH
    assert len(a["train"]["losses"]) == len(b["train"]["losses"]) > 1
    for (s1, x), (s2, y) in zip(a["train"]["losses"], b["train"]["losses"], strict=True):
        assert s1 == s2 and abs(x - y) < TOLERANCE, (s1, x, y)


def predictions(results: dict[str, Any], kind: str = "zeroshot") -> list[tuple[tuple[str, ...], list[float]]]:
    """Every scored example: ((task, template, picked option, generated text), option log-likelihoods)."""
    out = []
    for block in results[kind].values():
        for t in block["templates"]:
            out += [((t["task"], t["template_id"], p["picked"], p["text"]), p["loglik"]) for p in t["predictions"]]
    return out


def assert_scores_match(a: dict[str, Any], b: dict[str, Any]) -> None:
    """The same picks on every scored example, log-likelihoods within ``TOLERANCE``, equal metrics."""
    for kind in ("zeroshot", "indist"):
        pa, pb = predictions(a, kind), predictions(b, kind)
        assert len(pa) == len(pb) > 0
        for (ida, la), (idb, lb) in zip(pa, pb, strict=True):
            assert ida == idb
            assert len(la) == len(lb) and all(abs(x - y) < TOLERANCE for x, y in zip(la, lb, strict=True)), ida
    scores = [k for k in a["metrics"] if k.startswith(("zeroshot/", "indist/"))]
    assert scores and all(a["metrics"][k] == b["metrics"][k] for k in scores)
