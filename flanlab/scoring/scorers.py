"""Log-likelihood and greedy generation, one class per architecture.

Both implement ``Scorer``: ``loglikelihoods(pairs)`` returns, for each (context, continuation),
the summed log-probability of the continuation's tokens given the context, and ``generate``
decodes greedily. Requests are sorted longest first for batching and returned in input order.

Whitespace rule: contexts never end in whitespace; for decoder-only models the continuation is
prefixed with ``delimiter`` (one space), so the space belongs to the continuation's first token.
Seq2seq continuations need no delimiter: the decoder starts fresh.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

import torch
import torch.nn.functional as F

from flanlab.data.collate import IGNORE, _pad


class Scorer(Protocol):
    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]: ...
    def generate(self, inputs: Sequence[str], max_new_tokens: int) -> list[str]: ...


def _continuation_logprob(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sum of log p(label) over positions whose label is not IGNORE; logits [B, T, V], labels [B, T]."""
    logprobs = F.log_softmax(logits.float(), dim=-1)
    mask = labels != IGNORE
    picked = logprobs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)


class Seq2SeqScorer:
    """Encoder-decoder scoring: each unique context is encoded once, and all its options are
    scored in batched decoder passes that reuse the encoder output."""

    def __init__(self, model, tokenizer, *, batch_size: int = 32, include_eos: bool = True, max_input_len: int = 512):
        self.model, self.tokenizer = model, tokenizer
        self.batch_size, self.include_eos, self.max_input_len = batch_size, include_eos, max_input_len

    @torch.inference_mode()
    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        by_context: dict[str, list[int]] = defaultdict(list)
        for i, (ctx, _) in enumerate(pairs):
            by_context[ctx].append(i)
        contexts = sorted(by_context, key=len, reverse=True)
        conts = self.tokenizer([c for _, c in pairs], add_special_tokens=self.include_eos)["input_ids"]
        out = [0.0] * len(pairs)
        encoder = self.model.get_encoder()
        for start in range(0, len(contexts), self.batch_size):
            chunk = contexts[start : start + self.batch_size]
            enc = self.tokenizer(chunk, padding=True, truncation=True, max_length=self.max_input_len, return_tensors="pt")
            hidden = encoder(input_ids=enc.input_ids, attention_mask=enc.attention_mask).last_hidden_state
            rows = [(j, i) for j, ctx in enumerate(chunk) for i in by_context[ctx]]
            for r0 in range(0, len(rows), self.batch_size):
                part = rows[r0 : r0 + self.batch_size]
                which = torch.tensor([j for j, _ in part])
                labels = _pad([conts[i] for _, i in part], IGNORE)
                logits = self.model(
                    encoder_outputs=(hidden[which],), attention_mask=enc.attention_mask[which],
                    decoder_input_ids=self.model.prepare_decoder_input_ids_from_labels(labels=labels),
                ).logits
                for (_, i), value in zip(part, _continuation_logprob(logits, labels).tolist(), strict=True):
                    out[i] = value
        return out

    @torch.inference_mode()
    def generate(self, inputs: Sequence[str], max_new_tokens: int = 16) -> list[str]:
        order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]), reverse=True)
        out = [""] * len(inputs)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            enc = self.tokenizer([inputs[i] for i in idx], padding=True, truncation=True,
                                 max_length=self.max_input_len, return_tensors="pt")
            gen = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
            for i, text in zip(idx, self.tokenizer.batch_decode(gen, skip_special_tokens=True), strict=True):
                out[i] = text.strip()
        return out


class CausalScorer:
    """Decoder-only scoring over ``context + delimiter + continuation`` sequences."""

    def __init__(self, model, tokenizer, *, batch_size: int = 32, include_eos: bool = True,
                 max_input_len: int = 1024, delimiter: str = " "):
        self.model, self.tokenizer = model, tokenizer
        self.batch_size, self.include_eos, self.max_input_len = batch_size, include_eos, max_input_len
        self.delimiter = delimiter

    def _encode(self, ctx: str, cont: str) -> tuple[list[int], list[int]]:
        c = self.tokenizer(ctx, add_special_tokens=False)["input_ids"]
        t = self.tokenizer(self.delimiter + cont, add_special_tokens=False)["input_ids"]
        if self.include_eos:
            t = t + [self.tokenizer.eos_token_id]
        keep = max(self.max_input_len - len(t), 1)
        return c[-keep:], t

    @torch.inference_mode()
    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        encoded = [self._encode(c, t) for c, t in pairs]
        order = sorted(range(len(pairs)), key=lambda i: len(encoded[i][0]) + len(encoded[i][1]), reverse=True)
        out = [0.0] * len(pairs)
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            ids = _pad([encoded[i][0] + encoded[i][1] for i in idx], pad)
            labels = _pad([[IGNORE] * len(encoded[i][0]) + encoded[i][1] for i in idx], IGNORE)
            mask = _pad([[1] * (len(encoded[i][0]) + len(encoded[i][1])) for i in idx], 0)
            logits = self.model(input_ids=ids, attention_mask=mask).logits
            values = _continuation_logprob(logits[:, :-1], labels[:, 1:])
            for i, value in zip(idx, values.tolist(), strict=True):
                out[i] = value
        return out

    @torch.inference_mode()
    def generate(self, inputs: Sequence[str], max_new_tokens: int = 16) -> list[str]:
        out = [""] * len(inputs)
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(inputs), self.batch_size):
            idx = list(range(start, min(start + self.batch_size, len(inputs))))
            rows = [self.tokenizer(inputs[i], add_special_tokens=False)["input_ids"][-self.max_input_len :] for i in idx]
            width = max(len(r) for r in rows)
            ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
            mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
            gen = self.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                      do_sample=False, num_beams=1, pad_token_id=pad)
            for i, text in zip(idx, self.tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True), strict=True):
                out[i] = text.strip()
        return out


def make_scorer(loaded, cfg) -> Scorer:
    """The scorer for ``loaded.arch`` with the ``scoring`` config's batch size and EOS rule."""
    cls = Seq2SeqScorer if loaded.arch == "seq2seq" else CausalScorer
    return cls(loaded.model, loaded.tokenizer, batch_size=int(cfg.batch_size), include_eos=bool(cfg.include_eos),
               max_input_len=int(cfg.max_input_len))
