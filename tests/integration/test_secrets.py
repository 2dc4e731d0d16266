"""Credentials never reach saved files, and remote code runs only when the user asks for it.

A tiny cell runs with W&B offline and planted credentials: ``WANDB_API_KEY`` and ``HF_TOKEN`` in the
environment and an ``api_key`` in the config. Every file it writes (results, audit, checkpoints, W&B run
files, logs, W&B's cache and config folders) is searched byte for byte for the secret values.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import flanlab.models.load as load_mod
from flanlab.errors import ConfigError
from flanlab.pipeline import run_cell
from flanlab.tracking.run import scrub
from tests.conftest import CONF_DIR

CELL = ["+debug=tiny", "tasks.train_rows=32", "tasks.eval_rows=8", "train.steps=2", "train.log_every=1",
        "data.max_eval_per_task=2", "data.indist_eval_per_task=2",
        "heldout=sentiment", "template=dataset_name", "template.eval_variants=[dataset_name]", "logger=wandb"]


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


@pytest.mark.slow
def test_planted_credentials_appear_in_no_output_file(tmp_path, monkeypatch):
    planted = {name: f"planted-{name.lower()}-{secrets.token_hex(12)}" for name in ("WANDB_API_KEY", "HF_TOKEN")}
    in_config = f"planted-config-{secrets.token_hex(12)}"
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WANDB_MODE", "offline")
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "out" / var.lower()))
    cfg = _compose([*CELL, f"paths.cache_dir={tmp_path / 'out' / 'cache'}", f"+logger.api_key={in_config}",
                    "train.checkpoint_every=1"])
    results = run_cell(cfg, tmp_path / "out" / "cell")

    assert results["config"]["logger"]["api_key"] == "<redacted>"
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.name.endswith(".wandb") for p in files), "no W&B run file was written"
    assert any(p.name == "results.json" for p in files) and any(p.name == "state.pt" for p in files)
    needles = [v.encode() for v in (*planted.values(), in_config)]
    leaks = [(str(p.relative_to(tmp_path)), n.decode()) for p in files for n in needles if n in p.read_bytes()]
    assert leaks == []


def test_trust_remote_code_is_false_unless_the_user_sets_it(monkeypatch):
    for path in sorted((CONF_DIR / "model").glob("*.yaml")):
        assert OmegaConf.load(path).get("trust_remote_code", False) is False, path.name

    seen = []

    class Stop(Exception):
        pass

    def from_pretrained(name, **kwargs):
        seen.append(kwargs.get("trust_remote_code"))
        raise Stop

    monkeypatch.setattr(load_mod.AutoTokenizer, "from_pretrained", from_pretrained)
    base = {"name": "x", "arch": "causal", "source": "pretrained", "name_or_path": str(Path("/nowhere"))}
    for extra, expected in (({}, False), ({"trust_remote_code": False}, False), ({"trust_remote_code": True}, True)):
        with pytest.raises(Stop):
            load_mod.load_model(OmegaConf.create({**base, **extra}))
        assert seen[-1] is expected
    with pytest.raises(ConfigError, match="trust_remote_code must be true or false, got 'false'"):
        load_mod.load_model(OmegaConf.create({**base, "trust_remote_code": "false"}))


def test_scrub_redacts_credentials_but_keeps_ordinary_keys():
    config = {"logger": {"api_key": "a", "wandb_api_key": "b"}, "hf_token": "c", "db": {"password": "d"},
              "model": {"config": {"num_key_value_heads": 4}, "tokenizer": {"vocab_size": 9}},
              "scoring": {"max_new_tokens": 8}}
    assert scrub(config) == {
        "logger": {"api_key": "<redacted>", "wandb_api_key": "<redacted>"}, "hf_token": "<redacted>",
        "db": {"password": "<redacted>"}, "model": config["model"], "scoring": config["scoring"]}
