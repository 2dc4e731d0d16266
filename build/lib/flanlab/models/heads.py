"""A causal LM split into its body and its output layer, so callers run the head only where they need it.

Training (``flanlab.training.model``) applies it at target positions only; causal scoring
(``flanlab.scoring.scorers``) at each context's last token only.
"""

from __future__ import annotations

import torch


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The transformers model inside a peft wrapper (adapters stay injected), else ``model`` itself."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def backbone(model: torch.nn.Module) -> torch.nn.Module | None:
    """The causal LM's body (embeddings, blocks, final norm) without the LM head; None if it has none."""
    inner = unwrap(model)
    body = getattr(inner, "base_model", None)
    if body is None or body is inner or inner.get_output_embeddings() is None:
        return None
    return body


def output_logits(model: torch.nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """The LM head on ``hidden`` plus the final logit scaling / soft-capping the architecture's config sets."""
    inner = unwrap(model)
    logits = inner.get_output_embeddings()(hidden)
    cfg = inner.config.get_text_config() if hasattr(inner.config, "get_text_config") else inner.config
    scale = getattr(cfg, "logit_scale", None)  # Cohere: multiplies
    if scale is not None:
        logits = logits * scale
    divide = getattr(cfg, "logits_scaling", None)  # Granite: divides
    if divide is not None:
        logits = logits / divide
    cap = getattr(cfg, "final_logit_softcapping", None)  # Gemma-2/3
    if cap is not None:
        logits = torch.tanh(logits / cap) * cap
    return logits
