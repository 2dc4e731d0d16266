"""One forward pass for training: padded or packed batch in, summed target-token loss out."""

from __future__ import annotations

import torch
from transformers.modeling_outputs import BaseModelOutput

from flanlab.data.collate import IGNORE

MASK_KEYS = ("attention_mask", "decoder_attention_mask", "cross_attention_mask")


def target_tokens(batch: dict[str, torch.Tensor], arch: str) -> torch.Tensor:
    """How many tokens the loss is taken over (causal LMs predict ``labels[:, 1:]``)."""
    labels = batch["labels"][:, 1:] if arch == "causal" else batch["labels"]
    return (labels != IGNORE).sum()


def additive(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Boolean keep-mask -> additive mask (0 where kept, the dtype's minimum where masked)."""
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, torch.finfo(dtype).min)


class TrainModule(torch.nn.Module):
    """Wraps a Hugging Face LM; ``forward`` returns the *sum* of token losses, so callers can normalise globally.

    This is the module DDP/FSDP wrap. Packed seq2seq batches carry a separate cross-attention mask,
    so the encoder runs first and the decoder gets that mask in place of the encoder's.
    """

    def __init__(self, model: torch.nn.Module, arch: str, compute_dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.model, self.arch, self.compute_dtype = model, arch, compute_dtype

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        for key in MASK_KEYS:
            if key in batch and batch[key].dim() == 4:
                batch[key] = additive(batch[key], self.compute_dtype)
        count = target_tokens(batch, self.arch)
        cross = batch.pop("cross_attention_mask", None)
        if cross is not None:
            enc = self.model.get_encoder()(input_ids=batch.pop("input_ids"), attention_mask=batch.pop("attention_mask"))
            out = self.model(encoder_outputs=BaseModelOutput(last_hidden_state=enc.last_hidden_state),
                             attention_mask=cross, **batch)
        else:
            out = self.model(**batch)
        return out.loss.float() * count
