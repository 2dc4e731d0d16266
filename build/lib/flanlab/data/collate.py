"""Tokenising (input, target) pairs and padding them into batches, per architecture.

Seq2seq: the encoder reads the input, the decoder the target (both end in the tokenizer's EOS).
Decoder-only: one sequence ``input + delimiter + target + EOS`` with the loss on target tokens
only. The whitespace rule: the rendered input never ends in whitespace, and the *target* side
carries the delimiter (a single space by default), as lm-evaluation-harness does. A decoder-only
context starts with the tokenizer's BOS when the tokenizer itself adds one (Gemma, Llama): those
models are trained with it and degrade badly without it; GPT-2, Pythia and the project's own BPE add none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import datasets
import torch

from flanlab.data.maps import fresh_map

IGNORE = -100


def bos_prefix(tokenizer) -> list[int]:
    """``[bos]`` if the tokenizer puts BOS first when asked for special tokens, else ``[]``."""
    bos = tokenizer.bos_token_id
    if bos is None:
        return []
    with_special = tokenizer("a", add_special_tokens=True)["input_ids"]
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    return [bos] if with_special[:1] == [bos] and plain[:1] != [bos] else []


def causal_contexts(tokenizer, texts: Sequence[str], max_len: int | None = None) -> list[list[int]]:
    """Decoder-only context ids: no EOS, BOS first where the model expects it, cut from the left to ``max_len``."""
    prefix = bos_prefix(tokenizer)
    out = []
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        if max_len is not None:
            ids = ids[-max(max_len - len(prefix), 1):]
        out.append(prefix + ids)
    return out


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


def _pad(rows: Sequence[Sequence[int]], value: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Right-pad ``rows`` with ``value`` into one long tensor, made directly on ``device`` (torch's default
    device when None), so that a batch for an accelerator costs one host-to-device copy."""
    width = max(len(r) for r in rows)
    return torch.tensor([[*r, *([value] * (width - len(r)))] for r in rows], dtype=torch.long, device=device)


@dataclass
class Collator:
    """Pads a list of tokenised examples into model inputs (right padding)."""

    arch: str
    pad_token_id: int

    def __call__(self, rows: Sequence[dict]) -> dict[str, torch.Tensor]:
        input_ids = _pad([r["input_ids"] for r in rows], self.pad_token_id)
        attention_mask = _pad([[1] * len(r["input_ids"]) for r in rows], 0)
        labels = _pad([r["labels"] for r in rows], IGNORE)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
