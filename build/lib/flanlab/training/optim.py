"""Optimiser and learning-rate schedule from the ``train`` config."""

from __future__ import annotations

import torch
from transformers import get_scheduler
from transformers.optimization import Adafactor

from flanlab.errors import ConfigError

OPTIMIZERS = ("adamw", "adafactor")
SCHEDULES = {"constant": "constant_with_warmup", "linear": "linear", "cosine": "cosine"}


def make_optimizer(model: torch.nn.Module, name: str, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW (decay on matrices only) or Adafactor at a fixed learning rate (FLAN's choice)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    if name == "adafactor":
        return Adafactor(groups, lr=lr, scale_parameter=False, relative_step=False, warmup_init=False)
    raise ConfigError(f"unknown optimizer {name!r} (config key `train.optimizer`); valid: {', '.join(OPTIMIZERS)}")


def make_schedule(optimizer: torch.optim.Optimizer, name: str, warmup_steps: int, total_steps: int):
    """Linear warmup, then constant, linear or cosine decay."""
    if name not in SCHEDULES:
        raise ConfigError(f"unknown schedule {name!r} (config key `train.schedule`); valid: {', '.join(SCHEDULES)}")
    return get_scheduler(SCHEDULES[name], optimizer, num_warmup_steps=warmup_steps, num_training_steps=total_steps)
