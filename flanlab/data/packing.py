"""Packing: several tokenised examples per row, with no attention across example boundaries.

A packed row holds examples ``1..k`` side by side; ``segment`` ids mark which example each position
belongs to (0 = padding). Attention masks are 4-D boolean ``(rows, 1, queries, keys)`` and allow a
query to see a key only inside its own example, so a packed forward pass equals the padded one:

* decoder-only: block-diagonal *causal* self-attention, and ``position_ids`` restart at 0 for each
  example (RoPE / learned positions see the same offsets as unpacked);
* seq2seq (T5): block-diagonal encoder self-attention, block-diagonal causal decoder self-attention,
  and cross-attention from decoder example ``i`` to encoder example ``i`` only. Each example's
  decoder input restarts with the decoder start token. T5's relative position bias depends only on
  ``query - key`` offsets, which are unchanged within an example.

Padding positions attend to other padding positions, so no softmax row is empty.
:class:`flanlab.training.model.TrainModule` turns the boolean masks into additive ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from flanlab.data.token_layout import IGNORE


def balance(sizes: Sequence[tuple[int, ...]], rows: int) -> list[list[int]]:
    """Spread items over ``rows`` rows, longest first, each to the least-filled row (LPT scheduling).

    Rows end up within about one item of each other, so little of the padded width is wasted.
    """
    groups: list[list[int]] = [[] for _ in range(max(1, min(rows, len(sizes))))]
    fill = [tuple(0 for _ in sizes[0])] * len(groups) if sizes else []
    for i in sorted(range(len(sizes)), key=lambda j: sizes[j], reverse=True):
        r = min(range(len(groups)), key=fill.__getitem__)
        groups[r].append(i)
        fill[r] = tuple(f + x for f, x in zip(fill[r], sizes[i], strict=True))
    return groups


def _segments(groups: list[list[Sequence[int]]], pad: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Concatenate each group's sequences: ids, segment ids (1-based, 0 = pad), positions within example."""
    width = max(sum(len(s) for s in g) for g in groups)
    ids = torch.full((len(groups), width), pad, dtype=torch.long)
    seg = torch.zeros((len(groups), width), dtype=torch.long)
    pos = torch.zeros((len(groups), width), dtype=torch.long)
    for r, group in enumerate(groups):
        at = 0
        for k, s in enumerate(group, start=1):
            ids[r, at : at + len(s)] = torch.as_tensor(s, dtype=torch.long)
            seg[r, at : at + len(s)] = k
            pos[r, at : at + len(s)] = torch.arange(len(s))
            at += len(s)
    return ids, seg, pos


def block_mask(seg_q: torch.Tensor, seg_k: torch.Tensor, causal: bool = False) -> torch.Tensor:
    """``(rows, 1, q, k)`` boolean mask: True where query and key belong to the same example (or both pad)."""
    mask = seg_q[:, :, None] == seg_k[:, None, :]
    if causal:
        mask &= torch.ones(seg_q.shape[1], seg_k.shape[1], dtype=torch.bool).tril()
    return mask[:, None]


@dataclass
class PackedCollator:
    """Packs a list of tokenised examples into ``ceil(input tokens / pack_len)`` rows of about equal length."""

    arch: str
    pad_token_id: int
    pack_len: int = 256
    decoder_start_token_id: int = 0

    def __call__(self, rows: Sequence[dict]) -> dict[str, torch.Tensor]:
        ids = [list(r["input_ids"]) for r in rows]
        labels = [list(r["labels"]) for r in rows]
        if self.arch == "seq2seq":
            return self._seq2seq(ids, labels)
        return self._causal(ids, labels)

    def _causal(self, ids: list[list[int]], labels: list[list[int]]) -> dict[str, torch.Tensor]:
        groups = balance([(len(s),) for s in ids], -(-sum(map(len, ids)) // self.pack_len))
        input_ids, seg, pos = _segments([[ids[i] for i in g] for g in groups], self.pad_token_id)
        lab, _, _ = _segments([[labels[i] for i in g] for g in groups], IGNORE)
        # The first position of every example is context (never a target), so HF's one-token label
        # shift never asks an example to predict the next example's first token.
        lab[pos == 0] = IGNORE
        return {"input_ids": input_ids, "attention_mask": block_mask(seg, seg, causal=True),
                "position_ids": pos, "labels": lab}

    def _seq2seq(self, ids: list[list[int]], labels: list[list[int]]) -> dict[str, torch.Tensor]:
        rows = -(-sum(map(len, ids)) // self.pack_len)
        groups = balance([(len(a), len(b)) for a, b in zip(ids, labels, strict=True)], rows)
        input_ids, seg_in, _ = _segments([[ids[i] for i in g] for g in groups], self.pad_token_id)
        lab, seg_out, _ = _segments([[labels[i] for i in g] for g in groups], IGNORE)
        start = self.decoder_start_token_id
        dec_in, _, _ = _segments([[[start, *labels[i][:-1]] for i in g] for g in groups], self.pad_token_id)
        return {"input_ids": input_ids, "attention_mask": block_mask(seg_in, seg_in),
                "decoder_input_ids": dec_in, "decoder_attention_mask": block_mask(seg_out, seg_out, causal=True),
                "cross_attention_mask": block_mask(seg_out, seg_in), "labels": lab}
