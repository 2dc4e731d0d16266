"""One forward pass for training: padded or packed batch in, summed target-token loss out.

Decoder-only models take the *target-only logits* path by default (``train.target_only_logits``):
the backbone runs over the whole batch, but the output layer (the LM head, plus any final logit
scaling or soft-capping the architecture applies) runs only at positions whose *next* label is a
target, i.e. where HF's causal LM loss looks after its one-token shift. The loss is the same; the
``d_model x vocab`` matmul at every context position is skipped.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers.modeling_outputs import BaseModelOutput

from flanlab.data.token_layout import IGNORE
from flanlab.models.heads import backbone, output_logits, unwrap

__all__ = ["TrainModule", "additive", "backbone", "causal_target_loss", "output_logits", "target_tokens", "unwrap"]
MASK_KEYS = ("attention_mask", "decoder_attention_mask", "cross_attention_mask")


def target_tokens(batch: dict[str, torch.Tensor], arch: str) -> torch.Tensor:
    """How many tokens the loss is taken over (causal LMs predict ``labels[:, 1:]``)."""
    labels = batch["labels"][:, 1:] if arch == "causal" else batch["labels"]
    return (labels != IGNORE).sum()


def additive(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Boolean keep-mask -> additive mask (0 where kept, the dtype's minimum where masked)."""
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, torch.finfo(dtype).min)


def causal_target_loss(model: torch.nn.Module, body: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Summed fp32 cross-entropy with the output layer applied only where the shifted label is a target."""
    labels = batch.pop("labels")
    nxt = labels[:, 1:]
    keep = nxt != IGNORE
    hidden = body(**batch, use_cache=False).last_hidden_state[:, :-1][keep]  # [targets, d_model]
    logits = output_logits(model, hidden)
    return F.cross_entropy(logits.float(), nxt[keep], reduction="sum")


class TrainModule(torch.nn.Module):
    """Wraps a Hugging Face LM; ``forward`` returns the *sum* of token losses, so callers can normalise globally.

    This is the module DDP/FSDP wrap. Packed seq2seq batches carry a separate cross-attention mask,
    so the encoder runs first and the decoder gets that mask in place of the encoder's. Causal
    models take the target-only logits path when ``target_only_logits`` is set and the model has a
    separable backbone and output layer; otherwise the model's own all-position loss is used. The
    constructor's default is off (the plain HF forward); the fit loop passes ``train.target_only_logits``
    (default on).
    """

    def __init__(self, model: torch.nn.Module, arch: str, compute_dtype: torch.dtype = torch.float32,
                 target_only_logits: bool = False) -> None:
        super().__init__()
        self.model, self.arch, self.compute_dtype = model, arch, compute_dtype
        self.target_only_logits = bool(target_only_logits)

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        for key in MASK_KEYS:
            if key in batch and batch[key].dim() == 4:
                batch[key] = additive(batch[key], self.compute_dtype)
        if self.arch == "causal" and self.target_only_logits:
            body = backbone(self.model)
            if body is not None:
                return causal_target_loss(self.model, body, batch)
        count = target_tokens(batch, self.arch)
        cross = batch.pop("cross_attention_mask", None)
        if cross is not None:
            enc = self.model.get_encoder()(input_ids=batch.pop("input_ids"), attention_mask=batch.pop("attention_mask"))
            out = self.model(encoder_outputs=BaseModelOutput(last_hidden_state=enc.last_hidden_state),
                             attention_mask=cross, **batch)
        else:
            out = self.model(**batch)
        return out.loss.float() * count
