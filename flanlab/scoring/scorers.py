"""Log-likelihood and greedy generation, one class per architecture.

Both implement ``Scorer``: ``loglikelihoods(pairs)`` returns, for each (context, continuation),
the summed log-probability of the continuation's tokens given the context, and ``generate``
decodes greedily. Requests go through one :class:`~flanlab.scoring.collator.Collator` (grouped by
context, longest first, batch halved on out-of-memory) and come back in input order.

* ``Seq2SeqScorer`` encodes each unique context once, runs one decoder step per context (which
  gives every option's first-token log-probability and caches the cross-attention keys/values of
  the encoder output), then scores the rest of all its options in batched decoder passes that
  reuse that cache.
* ``CausalScorer`` runs each unique context once, keeps its KV cache (a transformers
  ``DynamicCache``), and scores every option of that context in one batched pass over the option
  tokens only, reading the first option token's log-probability from the context's last logits.
  Single-token options therefore cost no extra forward pass at all.

Whitespace rule: contexts never end in whitespace. For decoder-only models the *continuation*
carries the boundary space: it is tokenized separately as ``delimiter + continuation`` (one space
by default), so the space belongs to its first token. Seq2seq continuations need no delimiter
(the decoder starts fresh). ``include_eos`` also scores the end-of-sequence token after each
option, which separates an option from its own prefixes ("blue" vs "blue box").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Protocol

import torch
import torch.nn.functional as F
from transformers import DynamicCache, EncoderDecoderCache

from flanlab.data.collate import IGNORE, _pad, causal_contexts
from flanlab.scoring.collator import Collator, Group


class Scorer(Protocol):
    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]: ...
    def generate(self, inputs: Sequence[str], max_new_tokens: int) -> list[str]: ...


def _continuation_logprob(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sum of log p(label) over positions whose label is not IGNORE; logits [B, T, V], labels [B, T]."""
    logprobs = F.log_softmax(logits.float(), dim=-1)
    mask = labels != IGNORE
    picked = logprobs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)


def _collator(pairs: Sequence[tuple[str, str]], ctx_ids: dict[str, list[int]], conts: list[list[int]]) -> Collator:
    lengths = [len(ctx_ids[c]) + len(t) for (c, _), t in zip(pairs, conts, strict=True)]
    return Collator([c for c, _ in pairs], lengths)


class _Base:
    def __init__(self, model, tokenizer, *, batch_size: int = 32, include_eos: bool = True,
                 max_input_len: int = 512, delimiter: str = " ") -> None:
        self.model, self.tokenizer = model, tokenizer
        self.batch_size, self.include_eos, self.max_input_len = batch_size, include_eos, max_input_len
        self.delimiter = delimiter
        self.model.eval()

    def _generate_batch(self, inputs: list[str], max_new_tokens: int) -> list[str]:
        raise NotImplementedError

    @torch.inference_mode()
    def generate(self, inputs: Sequence[str], max_new_tokens: int = 16) -> list[str]:
        """Greedy decoding, longest inputs first, outputs stripped and in input order."""
        collator: Collator[str] = Collator(list(inputs), [len(s) for s in inputs])

        def batch(groups: list[Group]) -> dict[int, str]:
            texts = self._generate_batch([str(g.context) for g in groups], max_new_tokens)
            return {i: text.strip() for g, text in zip(groups, texts, strict=True) for i in g.indices}

        return self._run(collator, batch) if inputs else []

    def _run(self, collator: Collator, batch) -> list:
        """Run the collator; a batch size halved on out-of-memory stays halved for later calls."""
        try:
            return collator.run(batch, self.batch_size)
        finally:
            self.batch_size = collator.batch_size or self.batch_size


def _cache_argument(model) -> str:
    """The forward argument that takes a KV cache: ``cache`` from transformers 5.2x, ``past_key_values`` before."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _returned_cache(output) -> DynamicCache:
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


def _layers(cache: DynamicCache) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(layer.keys, layer.values) for layer in cache.layers]


def _select(layers: list[tuple[torch.Tensor, torch.Tensor]], which: torch.Tensor) -> DynamicCache:
    """A new cache holding rows ``which`` of the saved key/value tensors (one row per option)."""
    return DynamicCache(ddp_cache_data=[(k[which], v[which]) for k, v in layers])


def _option_logprobs(
    groups: list[Group], first: torch.Tensor, conts: list[list[int]], batch_size: int, pad: int,
    rest: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
) -> dict[int, float]:
    """Summed option log-probabilities, shared by both architectures.

    ``first`` [G, V] holds each context's next-token log-probabilities, which score every option's first
    token. Options longer than one token are then fed, minus their last token, through
    ``rest(which, inputs, labels) -> logits`` in batches, reusing context ``which``'s cache.
    """
    rows = [(j, i) for j, g in enumerate(groups) for i in g.indices]
    heads = first[torch.tensor([j for j, _ in rows]), torch.tensor([conts[i][0] for _, i in rows])]
    out = dict(zip([i for _, i in rows], heads.tolist(), strict=True))
    longer = [(j, i) for j, i in rows if len(conts[i]) > 1]
    for r0 in range(0, len(longer), batch_size):
        part = longer[r0 : r0 + batch_size]
        which = torch.tensor([j for j, _ in part])
        labels = _pad([conts[i][1:] for _, i in part], IGNORE)
        logits = rest(which, _pad([conts[i][:-1] for _, i in part], pad), labels)
        for (_, i), value in zip(part, _continuation_logprob(logits, labels).tolist(), strict=True):
            out[i] += value
    return out


class Seq2SeqScorer(_Base):
    """Encoder-decoder scoring: each unique context is encoded once, and all its options are
    scored in batched decoder passes that reuse the encoder output."""

    @torch.inference_mode()
    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        tok = self.tokenizer
        unique = list(dict.fromkeys(c for c, _ in pairs))
        encoded = tok(unique, truncation=True, max_length=self.max_input_len)["input_ids"]
        ctx_ids = dict(zip(unique, encoded, strict=True))
        conts = tok([c for _, c in pairs], add_special_tokens=self.include_eos)["input_ids"]
        collator = _collator(pairs, ctx_ids, conts)
        encoder = self.model.get_encoder()
        start = self.model.config.decoder_start_token_id

        def batch(groups: list[Group]) -> dict[int, float]:
            ids = _pad([ctx_ids[g.context] for g in groups], tok.pad_token_id)
            mask = _pad([[1] * len(ctx_ids[g.context]) for g in groups], 0)
            hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            # One decoder step per context: the first option token's log-probabilities, and a cache
            # holding the cross-attention keys/values of the encoder output (computed once).
            step = self.model(encoder_outputs=(hidden,), attention_mask=mask, use_cache=True,
                              decoder_input_ids=torch.full((len(groups), 1), start, dtype=torch.long))
            first = F.log_softmax(step.logits[:, 0].float(), -1)
            cache = _returned_cache(step)
            own, cross = _layers(cache.self_attention_cache), _layers(cache.cross_attention_cache)
            def rest(which: torch.Tensor, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
                cache = EncoderDecoderCache(_select(own, which), _select(cross, which))
                return self.model(encoder_outputs=(hidden[which],), attention_mask=mask[which], use_cache=True,
                                  decoder_input_ids=inputs, **{_cache_argument(self.model): cache}).logits

            return _option_logprobs(groups, first, conts, self.batch_size, tok.pad_token_id, rest)

        return self._run(collator, batch)

    def _generate_batch(self, inputs: list[str], max_new_tokens: int) -> list[str]:
        enc = self.tokenizer(inputs, padding=True, truncation=True, max_length=self.max_input_len, return_tensors="pt")
        gen = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        return self.tokenizer.batch_decode(gen, skip_special_tokens=True)


class CausalScorer(_Base):
    """Decoder-only scoring that runs each unique context once and reuses its KV cache for all options."""

    def _continuations(self, pairs: Sequence[tuple[str, str]]) -> list[list[int]]:
        conts = self.tokenizer([self.delimiter + c for _, c in pairs], add_special_tokens=False)["input_ids"]
        if self.include_eos:
            conts = [[*t, self.tokenizer.eos_token_id] for t in conts]
        for (ctx, cont), t in zip(pairs, conts, strict=True):
            if not t:
                raise ValueError(f"continuation {cont!r} of context {ctx[:40]!r} is empty after tokenization")
        return conts

    @torch.inference_mode()
    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        tok = self.tokenizer
        unique = list(dict.fromkeys(c for c, _ in pairs))
        prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        encoded = causal_contexts(tok, unique)
        ctx_ids = {c: ids or [prefix] for c, ids in zip(unique, encoded, strict=True)}
        conts = self._continuations(pairs)
        collator = _collator(pairs, ctx_ids, conts)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

        def batch(groups: list[Group]) -> dict[int, float]:
            # Left-truncate each context so that it and its longest option fit in max_input_len.
            keep = [max(self.max_input_len - max(len(conts[i]) for i in g.indices), 1) for g in groups]
            ctxs = [ctx_ids[g.context][-k:] for g, k in zip(groups, keep, strict=True)]
            lens = torch.tensor([len(c) for c in ctxs])
            ids, mask = _pad(ctxs, pad), _pad([[1] * len(c) for c in ctxs], 0)
            last = torch.unique(lens - 1)
            out = self.model(input_ids=ids, attention_mask=mask, use_cache=True, logits_to_keep=last)
            # Log-probabilities after each context's last real token: [G, V].
            first = F.log_softmax(out.logits.float(), -1)[torch.arange(len(groups)), torch.searchsorted(last, lens - 1)]
            layers = _layers(_returned_cache(out))
            def rest(which: torch.Tensor, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
                return self.model(
                    input_ids=inputs, use_cache=True, **{_cache_argument(self.model): _select(layers, which)},
                    attention_mask=torch.cat([mask[which], (labels != IGNORE).long()], dim=1),
                    position_ids=lens[which, None] + torch.arange(inputs.shape[1]),
                ).logits

            return _option_logprobs(groups, first, conts, self.batch_size, pad, rest)

        return self._run(collator, batch)

    def _generate_batch(self, inputs: list[str], max_new_tokens: int) -> list[str]:
        pad = self.tokenizer.pad_token_id
        rows = causal_contexts(self.tokenizer, inputs, self.max_input_len)
        width = max(len(r) for r in rows)
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        gen = self.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                  do_sample=False, num_beams=1, pad_token_id=pad)
        return self.tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True)


SCORERS: dict[str, type[_Base]] = {"seq2seq": Seq2SeqScorer, "causal": CausalScorer}


def make_scorer(loaded, cfg) -> Scorer:
    """The scorer for ``loaded.arch`` with the ``scoring`` config's batch size, EOS rule and input length."""
    return SCORERS[loaded.arch](loaded.model, loaded.tokenizer, batch_size=int(cfg.batch_size),
                                include_eos=bool(cfg.include_eos), max_input_len=int(cfg.max_input_len),
                                delimiter=str(cfg.get("delimiter", " ")))
