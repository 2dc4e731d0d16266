"""What a trained cell keeps of its final model (``train.save_model``), written atomically into the cell folder.

Modes: ``auto`` (``adapter`` for LoRA cells, ``none`` otherwise, so a grid of full fine-tuning cells uses no more
disk), ``none``, ``adapter`` (LoRA cells only) and ``full``.

* ``adapter``: ``<cell>/adapter`` holds peft's adapter files (the layout ``flanlab.models.peft.load_adapter`` reads,
  with the base fingerprint it checks), the tokenizer and ``flanlab_model.json``. A base built from config has
  random weights that no hub holds, so it is kept beside the adapter in ``<cell>/base_model``; a pretrained base is
  named (hub name or path), a GGUF base points at its converted copy under the cache.
* ``full``: ``<cell>/model`` holds ``save_pretrained`` of the model (a LoRA model merged into its base first), its
  tokenizer and its generation config.

``save_cell_model`` returns what ``results.json`` records under ``train``; ``flanlab export`` reads it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from omegaconf import DictConfig
from transformers import GenerationConfig

from flanlab.errors import ConfigError, unknown
from flanlab.io import atomic_dir
from flanlab.models.load import LoadedModel
from flanlab.models.peft import is_peft, save_adapter
from flanlab.models.peft_config import resolve_peft_config

SAVE_MODES = ("auto", "none", "adapter", "full")
MODEL_DIR, ADAPTER_DIR, BASE_DIR = "model", "adapter", "base_model"
INFO_FILE = "flanlab_model.json"


def resolve_save_mode(mode: str, lora: bool) -> str:
    """``train.save_model`` as what is written: ``none``, ``adapter`` or ``full``; a one-line error for an unknown
    mode or ``adapter`` on a cell without LoRA."""
    if mode not in SAVE_MODES:
        raise unknown("train.save_model mode", mode, SAVE_MODES, key="train.save_model")
    if mode == "auto":
        return "adapter" if lora else "none"
    if mode == "adapter" and not lora:
        raise ConfigError("train.save_model=adapter needs a LoRA cell (train.peft is null): use full or none")
    return mode


def check_save_model(cfg: DictConfig) -> None:
    """Fail before any work when ``train.save_model`` cannot be honoured (no torch or peft import needed)."""
    resolve_save_mode(str(cfg.train.save_model), resolve_peft_config(cfg.train.peft) is not None)


def generation_config(loaded: LoadedModel) -> GenerationConfig:
    """Greedy decoding with the tokenizer's ids, as flanlab's scorers decode (the length is left to the caller)."""
    tok, cfg = loaded.tokenizer, loaded.model.config
    ids: dict[str, Any] = {"eos_token_id": tok.eos_token_id,
                           "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id}
    if loaded.arch == "seq2seq":
        ids["decoder_start_token_id"] = getattr(cfg, "decoder_start_token_id", None)
    elif getattr(cfg, "bos_token_id", None) is not None:
        ids["bos_token_id"] = cfg.bos_token_id
    return GenerationConfig(do_sample=False, num_beams=1, **ids)


def write_info(folder: Path, info: dict[str, Any]) -> None:
    (folder / INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def base_model_copy(loaded: LoadedModel):
    """The frozen base of a LoRA model as a plain transformers model: the wrapped weights without the adapters."""
    inner = loaded.model.get_base_model()
    state = {name.replace(".base_layer.", "."): t for name, t in inner.state_dict().items() if "lora_" not in name}
    fresh = type(inner)(copy.deepcopy(inner.config))
    fresh.load_state_dict(state)
    return fresh


def save_pretrained_folder(model, loaded: LoadedModel, path: Path, info: dict[str, Any]) -> Path:
    """``model`` (a plain transformers model), the tokenizer and the generation config at ``path``, atomically."""
    with atomic_dir(path) as tmp:
        model.save_pretrained(tmp)
        loaded.tokenizer.save_pretrained(tmp)
        generation_config(loaded).save_pretrained(tmp)
        write_info(tmp, info)
    return path


def save_adapter_folder(loaded: LoadedModel, path: Path, info: dict[str, Any]) -> Path:
    """peft's adapter files, the base fingerprint (``models.peft.load_adapter`` checks it) and the tokenizer."""

    def tokenizer_and_info(tmp: Path) -> None:
        loaded.tokenizer.save_pretrained(tmp)
        write_info(tmp, info)

    return save_adapter(loaded, path, extra=tokenizer_and_info)


def base_reference(cfg: DictConfig) -> dict[str, str]:
    """Where an adapter's base comes from: kept in the cell (built from config), a hub name or path (pretrained),
    or the converted copy of a GGUF model under the cache."""
    source = str(cfg.model.source)
    if source == "pretrained":
        return {"base": str(cfg.model.name_or_path), "base_source": "pretrained"}
    if source == "gguf":
        from flanlab.models.gguf import converted_dir

        return {"base": str(converted_dir(cfg.model, cfg.paths.cache_dir).resolve()), "base_source": "gguf"}
    return {"base": BASE_DIR, "base_source": "saved"}


def save_cell_model(loaded: LoadedModel, output_dir: str | Path, mode: str, cfg: DictConfig) -> dict[str, Any]:
    """Keep the cell's final model as ``mode`` (``train.save_model``) says; return the ``train`` entries that
    ``results.json`` records: ``saved_model`` (kind, path relative to the cell, base) and, for adapters, ``adapter``
    (its folder, as recorded before)."""
    output_dir, lora = Path(output_dir), is_peft(loaded.model)
    kind = resolve_save_mode(mode, lora)
    if kind == "none":
        return {"saved_model": None}
    info: dict[str, Any] = {"kind": kind, "arch": loaded.arch, "model": loaded.name, "source": str(cfg.model.source)}
    if kind == "full":
        model = copy.deepcopy(loaded.model).merge_and_unload() if lora else loaded.model
        info["merged_lora"] = lora
        save_pretrained_folder(model, loaded, output_dir / MODEL_DIR, info)
        return {"saved_model": {**info, "path": MODEL_DIR}}
    info |= base_reference(cfg)
    if info["base_source"] == "saved":
        save_pretrained_folder(base_model_copy(loaded), loaded, output_dir / BASE_DIR, {**info, "kind": "base"})
    adapter = save_adapter_folder(loaded, output_dir / ADAPTER_DIR, info)
    return {"saved_model": {**info, "path": ADAPTER_DIR}, "adapter": str(adapter)}
