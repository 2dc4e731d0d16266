"""The same seed gives the same mixture hash, losses and metrics on CPU: one tiny cell, run twice and compared."""

from __future__ import annotations

import json

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from flanlab.data.mixture import build_mixture
from flanlab.pipeline import run_cell
from flanlab.splits import make_split
from tests.conftest import CONF_DIR

pytestmark = pytest.mark.slow
CELL = ["+debug=tiny", "tasks.train_rows=48", "tasks.eval_rows=8", "train.steps=6", "train.log_every=2",
        "train.warmup_steps=2", "data.max_eval_per_task=4", "data.indist_eval_per_task=2",
        "logger=none", "heldout=sentiment", "template=dataset_name",
        "template.eval_variants=[dataset_name]"]


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def test_same_seed_same_mixture_hash_losses_and_metrics(tmp_path):
    cfg = _compose([*CELL, f"paths.cache_dir={tmp_path / 'cache'}"])
    first = run_cell(cfg, tmp_path / "a")
    second = run_cell(cfg, tmp_path / "b")
    assert first["train"]["mixture_hash"] == second["train"]["mixture_hash"]
    assert first["train"]["losses"] == second["train"]["losses"]
    assert first["metrics"] == second["metrics"]  # exact, every key: zero-shot, in-distribution, audit
    assert first["zeroshot"] == second["zeroshot"]
    saved = json.loads((tmp_path / "b" / "results.json").read_text())
    assert saved["train"]["mixture_hash"] == first["train"]["mixture_hash"]
    assert {k for k in first["metrics"] if k.startswith("zeroshot/")}, "no zero-shot metric was compared"

    # The hash is a real fingerprint: another seed shuffles the same rows into another order.
    catalogue = instantiate(cfg.tasks)
    split = make_split(catalogue.clusters, cfg.heldout.clusters, cfg.split.related)
    hashes = {seed: build_mixture(catalogue, split, "dataset_name", max_per_task=48, seed=seed).fingerprint()
              for seed in (0, 1)}
    assert hashes[0] == first["train"]["mixture_hash"]
    assert hashes[1] != hashes[0]
