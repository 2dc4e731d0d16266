"""Eval-only mode: ``+experiment=zeroshot_eval`` scores a model without training, for a model built
from config and for the same weights saved and loaded back through ``model=hf``."""

from __future__ import annotations

import json

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from flanlab.models.load import load_model
from flanlab.pipeline import run_cell, seed_everything, tokenizer_corpus
from tests.conftest import CONF_DIR

pytestmark = pytest.mark.slow
TINY = ["tasks.train_rows=48", "tasks.eval_rows=12", "data.max_eval_per_task=6", "scoring.best_dev_rows=4",
        "scoring.bootstrap_resamples=200", "heldout.clusters=[sentiment]",
        "template.eval_variants=[instruction,no_template]", "logger=none", "threads=1"]


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=["+experiment=zeroshot_eval", *overrides])


def test_zeroshot_eval_scores_config_model_and_its_saved_copy_alike(tmp_path):
    cache = f"paths.cache_dir={tmp_path / 'cache'}"
    built = run_cell(_compose([*TINY, "model=tiny_causal", cache]), tmp_path / "built")
    saved = json.loads((tmp_path / "built" / "results.json").read_text())
    assert "train" not in saved and saved["cell"]["train_variant"] == "untuned"
    assert set(saved["zeroshot"]) == {"instruction", "no_template"}
    block = saved["zeroshot"]["instruction"]
    assert block["best_dev"] and all(b["template"] in s["per_template"]
                                     for b, s in zip(block["best_dev"].values(), block["tasks"].values(), strict=True))
    metrics = built["metrics"]
    for key in ("mean", "heldout_mean", "best_dev/mean", "mean_ci_low", "mean_ci_high"):
        assert f"zeroshot/instruction/{key}" in metrics
    assert metrics["zeroshot/instruction/mean_ci_low"] <= metrics["zeroshot/instruction/mean"]
    assert metrics["zeroshot/instruction/mean"] <= metrics["zeroshot/instruction/mean_ci_high"]

    # The same weights, saved as a Hugging Face folder and scored through model=hf.
    cfg = _compose([*TINY, "model=tiny_causal", cache])
    seed_everything(int(cfg.seed))
    catalogue = instantiate(cfg.tasks)
    loaded = load_model(cfg.model, corpus=lambda: tokenizer_corpus(catalogue), cache_dir=cfg.paths.cache_dir)
    loaded.model.save_pretrained(tmp_path / "hf_model")
    loaded.tokenizer.save_pretrained(tmp_path / "hf_model")
    del loaded
    torch.manual_seed(123)  # a pretrained load must not depend on the seed
    hf_overrides = ["model=hf", f"model.name_or_path={tmp_path / 'hf_model'}", "model.arch=causal", cache]
    hf = run_cell(_compose([*TINY, *hf_overrides]), tmp_path / "hf")
    assert hf["model"]["arch"] == "causal"
    same = {k: v for k, v in metrics.items() if "/cluster/" in k or k.endswith("/acc")}
    assert same and {k: hf["metrics"][k] for k in same} == pytest.approx(same, abs=1e-9)
