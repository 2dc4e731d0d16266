"""Tokenising training (input, target) pairs and padding them into batches, per architecture.

Seq2seq: the encoder reads the input, the decoder the target (both end in the tokenizer's EOS).
Decoder-only: one sequence ``context + delimiter + target + EOS`` with the loss on target tokens
only; the context is laid out by :mod:`flanlab.data.token_layout` (BOS, truncation), as scoring lays it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import datasets
import torch

from flanlab.data.maps import fresh_map
from flanlab.data.token_layout import IGNORE, causal_contexts, right_pad


def encode_pairs(
    tokenizer, arch: str, inputs: Sequence[str], targets: Sequence[str], *,
    max_input_len: int, max_target_len: int, delimiter: str = " ",
) -> dict[str, list[list[int]]]:
    """Token ids and labels for training pairs; see the module docstring for the layout."""
    if arch == "seq2seq":
        enc = tokenizer(list(inputs), truncation=True, max_length=max_input_len)["input_ids"]
        lab = tokenizer(list(targets), truncation=True, max_length=max_target_len)["input_ids"]
        return {"input_ids": enc, "labels": lab}
    eos = tokenizer.eos_token_id
    ctx = causal_contexts(tokenizer, inputs, max_input_len)
    cont = tokenizer([delimiter + t for t in targets], add_special_tokens=False)["input_ids"]
    ids, labels = [], []
    for c, t in zip(ctx, cont, strict=True):
        t = [*t[: max_target_len - 1], eos]
        ids.append(c + t)
        labels.append([IGNORE] * len(c) + t)
    return {"input_ids": ids, "labels": labels}


def tokenize_mixture(
    examples: datasets.Dataset, tokenizer, arch: str, *, max_input_len: int, max_target_len: int, delimiter: str = " "
) -> datasets.Dataset:
    """Add ``input_ids`` and ``labels`` columns with batched ``datasets.map``."""
    def batch(columns: dict[str, list]) -> dict[str, list]:
        return encode_pairs(
            tokenizer, arch, columns["input"], columns["target"],
            max_input_len=max_input_len, max_target_len=max_target_len, delimiter=delimiter,
        )

    return fresh_map(examples, batch, batched=True, desc="tokenize")


@dataclass
class PaddedCollator:
    """Pads a list of tokenised training examples into model inputs (right padding)."""

    arch: str
    pad_token_id: int

    def __call__(self, rows: Sequence[dict]) -> dict[str, torch.Tensor]:
        input_ids = right_pad([r["input_ids"] for r in rows], self.pad_token_id)
        attention_mask = right_pad([[1] * len(r["input_ids"]) for r in rows], 0)
        labels = right_pad([r["labels"] for r in rows], IGNORE)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
