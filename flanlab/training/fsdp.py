"""After FSDP training every rank holds shards: rebuild one whole, unsharded model on rank 0 for scoring.

The rebuilt model is a fresh instance of the same class and config (for a LoRA model: a fresh base wrapped
with the same adapter config), into which the gathered full state dict is loaded strictly, so a key that
does not fit stops the run instead of leaving weights at their random init.
"""

from __future__ import annotations

import copy

import torch
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

from flanlab.models.peft import is_peft


def full_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The whole state dict, frozen weights included, on rank 0's CPU (empty elsewhere); a collective."""
    return get_model_state_dict(module, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def fresh_like(model: torch.nn.Module) -> torch.nn.Module:
    """A new, unsharded model of ``model``'s class and config; a peft model gets the same adapters."""
    if not is_peft(model):
        return type(model)(model.config)
    from peft import get_peft_model

    base = model.get_base_model()
    adapter = copy.deepcopy(model.peft_config[model.active_adapter])
    return get_peft_model(type(base)(base.config), adapter)


def gather_whole_model(module: torch.nn.Module, model: torch.nn.Module,
                       prefix: str = "model.") -> torch.nn.Module | None:
    """The trained weights of FSDP-wrapped ``module`` (which holds ``model`` under ``prefix``) as one whole
    model on rank 0; None on the other ranks. Every rank must call it."""
    state = full_state(module)
    if not state:
        return None
    whole = fresh_like(model)
    whole.load_state_dict({k.removeprefix(prefix): v for k, v in state.items()})
    return whole
