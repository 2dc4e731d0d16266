"""LoRA through peft on tiny models built from config: adapters train, the base stays frozen,
and adapters save/load/resume (merged against adapter-wrapped scores: tests/integration/test_export_model.py)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from flanlab.data.collate import tokenize_mixture
from flanlab.data.mixture import build_mixture
from flanlab.errors import ConfigError
from flanlab.models.load import load_model
from flanlab.models.peft import (
    apply_peft,
    load_adapter,
    resolve_peft_config,
    save_adapter,
)
from flanlab.pipeline import tokenizer_corpus
from flanlab.scoring.scorers import CausalScorer, Seq2SeqScorer
from flanlab.splits import make_split
from flanlab.tracking.run import NullTracker
from flanlab.training.loop import fit
from tests.conftest import CONF_DIR

MODELS = ["tiny_t5", "tiny_causal"]
SCORERS = {"tiny_t5": Seq2SeqScorer, "tiny_causal": CausalScorer}
# The train config's YAML defaults, with this test's choices on top (code reads no fallback defaults).
TRAIN = {**OmegaConf.to_container(OmegaConf.load(CONF_DIR / "train" / "default.yaml")),
         "steps": 20, "batch_size": 8, "grad_accum": 1, "optimizer": "adamw", "lr": 3e-3, "weight_decay": 0.0,
         "schedule": "constant", "warmup_steps": 0, "clip_norm": 1.0, "log_every": 5, "progress": False,
         "batching": "random"}


def _load(name: str, catalogue, cache_dir, seed: int = 0):
    torch.manual_seed(seed)
    return load_model(OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml"),
                      corpus=lambda: tokenizer_corpus(catalogue), cache_dir=str(cache_dir))


def _data(loaded, catalogue):
    split = make_split(catalogue.clusters, ["nli"])
    mixture = build_mixture(catalogue, split, "instruction", max_per_task=24, seed=0)
    return tokenize_mixture(mixture.examples, loaded.tokenizer, loaded.arch, max_input_len=64, max_target_len=8)


def _batch(loaded, data, n: int = 8):
    from flanlab.data.collate import PaddedCollator

    return PaddedCollator(loaded.arch, loaded.tokenizer.pad_token_id)(
        [{"input_ids": data[i]["input_ids"], "labels": data[i]["labels"]} for i in range(n)])


def _wrap_b_nonzero(loaded):
    """LoRA's B starts at zero (a no-op adapter); give it values so equivalence tests can fail."""
    with torch.no_grad():
        for name, p in loaded.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2)


def test_preset_matches_config_group_and_errors():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        full = compose(config_name="config")
        grouped = compose(config_name="config", overrides=["+train/peft=lora", "train.peft.r=4"])
        by_name = compose(config_name="config", overrides=["train.peft=lora"])
    assert full.train.peft is None and resolve_peft_config(full.train.peft) is None
    assert grouped.train.peft.r == 4 and resolve_peft_config(grouped.train.peft).alpha == 16
    assert resolve_peft_config(by_name.train.peft).r == 8
    partial = resolve_peft_config({"method": "lora", "r": 2})
    assert (partial.r, partial.alpha, partial.target_modules) == (2, 16, None)
    with pytest.raises(ConfigError, match="Did you mean 'lora'"):
        resolve_peft_config("lorra")
    with pytest.raises(ConfigError, match=r"train\.peft\.method"):
        resolve_peft_config({"method": "prefix"})


@pytest.mark.parametrize("name", MODELS)
def test_default_targets_and_bad_targets(name, toy_catalogue, tmp_path):
    loaded = apply_peft(_load(name, toy_catalogue, tmp_path), "lora")
    wrapped = {n.split(".lora_A")[0].rsplit(".", 1)[-1] for n, _ in loaded.model.named_parameters() if "lora_A" in n}
    assert wrapped == ({"q", "v"} if name == "tiny_t5" else {"q_proj", "v_proj"})
    with pytest.raises(ConfigError, match="target_modules"):
        apply_peft(_load(name, toy_catalogue, tmp_path), {"method": "lora", "r": 2, "alpha": 4, "dropout": 0.0,
                                                            "target_modules": ["no_such_layer"]})


@pytest.mark.parametrize("name", MODELS)
def test_only_adapters_change_and_loss_decreases(name, toy_catalogue, tmp_path):
    loaded = apply_peft(_load(name, toy_catalogue, tmp_path), "lora")
    trainable, total = loaded.num_trainable_parameters(), loaded.num_parameters()
    assert 0 < trainable < 0.2 * total
    assert all(("lora_" in n) == p.requires_grad for n, p in loaded.model.named_parameters())
    before = {n: p.detach().clone() for n, p in loaded.model.named_parameters()}
    result = fit(loaded, _data(loaded, toy_catalogue), OmegaConf.create(TRAIN), NullTracker(), seed=0)
    changed = {n for n, p in loaded.model.named_parameters() if not torch.equal(p, before[n])}
    assert changed, "no parameter changed"
    assert all("lora_" in n for n in changed), sorted(n for n in changed if "lora_" not in n)[:3]
    assert any("lora_B" in n for n in changed) and any("lora_A" in n for n in changed)
    first, last = result.losses[0][1], result.losses[-1][1]
    assert last < first, result.losses


def _adapter_weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters() if "lora_" in k}


@pytest.mark.parametrize("name", MODELS)
def test_adapter_checkpoint_resume_and_save_load(name, toy_catalogue, tmp_path):
    """fit() checkpoints hold the adapter only; resuming from step 2 of 4 ends where the uninterrupted run did."""
    spec = {"method": "lora", "r": 4, "alpha": 8, "dropout": 0.0, "target_modules": None}
    cfg = OmegaConf.create(TRAIN | {"steps": 4, "checkpoint_every": 2, "keep_checkpoints": 2, "batching": "random"})
    whole = apply_peft(_load(name, toy_catalogue, tmp_path), spec)
    data = _data(whole, toy_catalogue)
    fit(whole, data, cfg, NullTracker(), seed=0, checkpoint_dir=tmp_path / "ckpt")
    steps = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert steps == ["step_00000002", "step_00000004"]
    saved = torch.load(tmp_path / "ckpt" / steps[0] / "state.pt", weights_only=False)["model"]
    assert saved and all("lora_" in k for k in saved), [k for k in saved if "lora_" not in k][:3]
    shutil.rmtree(tmp_path / "ckpt" / steps[1])

    resumed = apply_peft(_load(name, toy_catalogue, tmp_path), spec)
    result = fit(resumed, data, cfg, NullTracker(), seed=0, checkpoint_dir=tmp_path / "ckpt")
    assert result.resumed_from == 2
    expected, got = _adapter_weights(whole.model), _adapter_weights(resumed.model)
    assert expected and expected.keys() == got.keys()
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, rtol=1e-5, atol=1e-6)

    # The on-disk adapter folder reproduces the trained model's outputs.
    def note(folder: Path) -> None:
        (folder / "extra.txt").write_text("x")

    save_adapter(whole, tmp_path / "adapter", extra=note)
    files = {p.name for p in (tmp_path / "adapter").iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors"} <= files and "model.safetensors" not in files
    assert "extra.txt" in files  # ``extra`` writes into the same atomic folder
    from_disk = load_adapter(_load(name, toy_catalogue, tmp_path), tmp_path / "adapter")
    batch = _batch(whole, data)
    with torch.no_grad():
        want = whole.model.eval()(**batch).logits
        torch.testing.assert_close(from_disk.model.eval()(**batch).logits, want)
    with pytest.raises(ConfigError, match="trained on base"):  # another seed = another base
        load_adapter(_load(name, toy_catalogue, tmp_path, seed=1), tmp_path / "adapter")


def test_peft_table_read_from_source_is_peft_own():
    """The checks before a run read peft's LoRA table from its source, without importing peft."""
    from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as imported

    from flanlab.models import peft_config

    peft_config.peft_lora_table.cache_clear()
    modules = dict(sys.modules)
    try:
        for name in [m for m in sys.modules if m == "peft" or m.startswith("peft.")]:
            del sys.modules[name]  # as before a run: peft not imported yet
        from_source = peft_config.peft_lora_table()
    finally:
        sys.modules.update(modules)
        peft_config.peft_lora_table.cache_clear()
    assert from_source == dict(imported) and len(from_source) > 10
