"""LoRA settings without importing torch or peft: presets by name, and the target modules for a model type.

``flanlab.models.peft`` wraps models with these settings; the checks before a run
(``flanlab.config_checks``) use them to catch an unknown preset or a model type without targets.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from functools import cache
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from flanlab.errors import ConfigError, unknown
from flanlab.paths import config_dir

PRESET_DIR = config_dir() / "train" / "peft"
METHODS = ("lora",)
PEFT_TABLE = "TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING"


def presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def resolve_peft_config(spec: str | DictConfig | dict | None) -> DictConfig | None:
    """``None`` for full fine-tuning; otherwise the peft settings, loading a preset by name."""
    if spec is None or (isinstance(spec, str) and spec.lower() in ("", "none", "null")):
        return None
    if isinstance(spec, str):
        if spec not in presets():
            raise unknown("peft preset", spec, presets(), key="train.peft")
        return OmegaConf.load(PRESET_DIR / f"{spec}.yaml")
    cfg = OmegaConf.create(spec) if isinstance(spec, dict) else spec
    method = cfg.method if "method" in cfg else None  # a user's mapping, checked here before it is merged
    if method not in METHODS:
        raise unknown("peft method", method, METHODS, key="train.peft.method")
    return OmegaConf.merge(OmegaConf.load(PRESET_DIR / f"{cfg.method}.yaml"), cfg)  # unset keys take the preset's


def lora_targets(model_type: str, cfg: DictConfig, model_name: str | None = None) -> list[str]:
    """Configured targets, else the preset's ``default_targets[model_type]``, else peft's own table."""
    if cfg.target_modules:
        return list(cfg.target_modules)
    defaults = cfg.default_targets or {}
    if model_type in defaults:
        return list(defaults[model_type])
    table = peft_lora_table()
    if model_type in table:
        return list(table[model_type])
    model = f"model {model_name!r} is of type {model_type!r}, which has" if model_name else \
        f"model type {model_type!r} has"
    raise ConfigError(f"train.peft: {model} no default LoRA target modules (neither in "
                      "conf/train/peft/lora.yaml default_targets nor in peft's table); set "
                      "train.peft.target_modules, e.g. train.peft.target_modules='[q_proj,v_proj]'")


@cache
def peft_lora_table() -> dict[str, list[str]]:
    """peft's default LoRA targets by model type. Importing peft takes seconds (torch, transformers), so before
    a run the literal is read from peft's source; once peft is imported, its own table is used."""
    if "peft.utils" not in sys.modules:
        try:
            folder = importlib.util.find_spec("peft").submodule_search_locations[0]  # type: ignore[union-attr]
            for node in ast.parse((Path(folder) / "utils" / "constants.py").read_text()).body:
                if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == PEFT_TABLE for t in node.targets):
                    return ast.literal_eval(node.value)
        except (AttributeError, TypeError, IndexError, OSError, SyntaxError, ValueError):
            pass  # another layout: import it
    from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

    return dict(TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING)
