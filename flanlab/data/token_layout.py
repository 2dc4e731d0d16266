"""Token layout shared by training and scoring: the label value the loss ignores, right padding, the BOS a
decoder-only context starts with, and how such a context is cut.

The whitespace rule: the rendered input never ends in whitespace, and the *target* side carries the
delimiter (a single space by default), as lm-evaluation-harness does. A decoder-only context starts with the
tokenizer's BOS when the tokenizer itself adds one (Gemma, Llama): those models are trained with it and degrade
badly without it; GPT-2, Pythia and the project's own BPE add none.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

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


def right_pad(rows: Sequence[Sequence[int]], value: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Right-pad ``rows`` with ``value`` into one long tensor, made directly on ``device`` (torch's default
    device when None), so that a batch for an accelerator costs one host-to-device copy."""
    width = max(len(r) for r in rows)
    return torch.tensor([[*r, *([value] * (width - len(r)))] for r in rows], dtype=torch.long, device=device)
