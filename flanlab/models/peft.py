"""Parameter-efficient fine-tuning: wrap a loaded model with LoRA adapters through ``peft``.

``train.peft`` selects it: ``null`` (full fine-tuning), a preset name such as ``lora`` (the file
``conf/train/peft/lora.yaml``), or a mapping composed with ``+train/peft=lora train.peft.r=16``.
Only the adapters train; the variant, split and scoring are unchanged, so a LoRA cell is
comparable with a full fine-tuning cell.

Checkpoint hooks for the training loop: ``trainable_state_dict(model)`` is what to save (the
adapter only, for a peft model; the whole state dict otherwise) and ``load_trainable_state_dict``
puts it back into a freshly loaded and wrapped model. ``save_adapter``/``load_adapter`` do the same
as a peft folder on disk, with a fingerprint of the frozen base that is checked on load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import torch
from omegaconf import DictConfig
from peft import LoraConfig, PeftModel, TaskType, get_peft_model

from flanlab.errors import ConfigError
from flanlab.io import atomic_dir
from flanlab.models.load import LoadedModel
from flanlab.models.peft_config import lora_targets, resolve_peft_config

log = logging.getLogger(__name__)
BASE_FILE = "flanlab_base.json"


def target_modules(model: torch.nn.Module, cfg: DictConfig, model_name: str | None = None) -> list[str]:
    """Configured targets, else the per-architecture default from the preset, else peft's own table."""
    return lora_targets(model.config.model_type, cfg, model_name)


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def apply_peft(loaded: LoadedModel, spec: str | DictConfig | dict | None) -> LoadedModel:
    """Wrap ``loaded.model`` with LoRA adapters as ``spec`` says; unchanged when ``spec`` is null."""
    cfg = resolve_peft_config(spec)
    if cfg is None:
        return loaded
    targets = target_modules(loaded.model, cfg, loaded.name)
    lora = LoraConfig(
        task_type=TaskType.SEQ_2_SEQ_LM if loaded.arch == "seq2seq" else TaskType.CAUSAL_LM,
        r=int(cfg.r), lora_alpha=int(cfg.alpha), lora_dropout=float(cfg.dropout), bias=str(cfg.get("bias", "none")),
        target_modules=targets,
    )
    try:
        model = get_peft_model(loaded.model, lora)
    except ValueError as err:  # peft: "Target modules {...} not found in the base model"
        raise ConfigError(f"train.peft.target_modules {targets} do not fit model {loaded.name!r}: {err}") from err
    trainable, total = count_parameters(model)
    log.info("LoRA r=%d on %s: %d trainable of %d parameters (%.3f%%)",
             lora.r, ",".join(targets), trainable, total, 100 * trainable / total)
    return dataclasses.replace(loaded, model=model)


def is_peft(model: torch.nn.Module) -> bool:
    return isinstance(model, PeftModel)


def base_fingerprint(model: torch.nn.Module) -> str:
    """A hash of the frozen base weights (names, shapes, float64 sums): adapters only fit the base they trained on."""
    base = model.get_base_model() if is_peft(model) else model
    digest = hashlib.sha256()
    with torch.no_grad():
        for name, p in base.named_parameters():
            if "lora_" in name:
                continue
            name = name.replace(".base_layer", "")  # peft renames a wrapped layer's own weights
            digest.update(f"{name}:{tuple(p.shape)}:{p.double().sum().item():.10e}".encode())
    return digest.hexdigest()[:16]


def save_adapter(loaded: LoadedModel, path: str | Path, extra: Callable[[Path], None] | None = None) -> Path:
    """Write the adapter only (``adapter_config.json``, ``adapter_model.safetensors``) and the base fingerprint;
    ``extra`` writes more files into the same temporary folder before it is renamed into place."""
    if not is_peft(loaded.model):
        raise ConfigError("save_adapter needs a model wrapped by apply_peft (train.peft is null)")
    with atomic_dir(path) as tmp:
        loaded.model.save_pretrained(tmp)
        (tmp / BASE_FILE).write_text(json.dumps({"model": loaded.name, "base": base_fingerprint(loaded.model)}) + "\n")
        if extra is not None:
            extra(tmp)
    return Path(path)


def load_adapter(loaded: LoadedModel, path: str | Path, trainable: bool = True) -> LoadedModel:
    """Wrap a freshly loaded base model with the adapter saved at ``path``; refuse a different base."""
    path = Path(path)
    if not (path / "adapter_config.json").exists():
        raise ConfigError(f"{path} holds no adapter (adapter_config.json is missing)")
    saved = json.loads((path / BASE_FILE).read_text()) if (path / BASE_FILE).exists() else {}
    found = base_fingerprint(loaded.model)
    if saved.get("base") not in (None, found):
        raise ConfigError(f"adapter at {path} was trained on base {saved['base']} of model {saved.get('model')!r}, "
                          f"but model {loaded.name!r} has base {found}")
    model = PeftModel.from_pretrained(loaded.model, str(path), is_trainable=trainable)
    return dataclasses.replace(loaded, model=model)
