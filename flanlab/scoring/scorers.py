"""Log-likelihood and greedy generation, one class per architecture.

Both implement ``Scorer``: ``loglikelihoods(pairs)`` returns, for each (context, continuation),
the summed log-probability of the continuation's tokens given the context, and ``generate``
decodes greedily. Requests go through one :class:`~flanlab.scoring.batching.RequestBatcher` (grouped by
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
option, which separates an option from its own prefixes ("blue" vs "blue box"); by default it is on
for seq2seq and off for decoder-only models, so that causal scores equal lm-evaluation-harness's.

Limits and devices: a context keeps at most ``max_input_len`` tokens (the same limit training
uses); a decoder-only context is cut from the left *after* its BOS. Every input tensor goes to the
model's device, and ``make_scorer`` puts the model on ``scoring.device`` (``auto`` = where training
runs) with ``scoring.precision`` (``auto`` = bf16 autocast on CUDA, and on a bf16-capable CPU for models
whose config sets ``cpu_bf16``; fp32 elsewhere, and ``fp32`` always gives exact fp32 log-likelihoods).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm
from transformers import DynamicCache, EncoderDecoderCache, StoppingCriteria, StoppingCriteriaList

from flanlab.data.token_layout import IGNORE, bos_prefix, causal_contexts, right_pad
from flanlab.data.truncation import InputLimit
from flanlab.errors import ConfigError
from flanlab.hardware import resolve_precision
from flanlab.models.heads import backbone, output_logits, unwrap
from flanlab.scoring.batching import Group, RequestBatcher
from flanlab.training.distributed import device_for

log = logging.getLogger(__name__)
EOS_BY_ARCH = {"seq2seq": True, "causal": False}  # include_eos: auto


def resolve_include_eos(value: object, arch: str) -> bool:
    """``scoring.include_eos`` (auto | true | false) -> bool; auto = true for seq2seq, false for causal."""
    text = str(value).lower()
    if text == "auto":
        return EOS_BY_ARCH[arch]
    if text not in ("true", "false"):
        raise ConfigError(f"scoring.include_eos must be auto, true or false, got {value!r}")
    return text == "true"


def scoring_device(value: object = "auto") -> torch.device:
    """``scoring.device``: auto = the training device (this process's GPU when CUDA is present), or a name."""
    return device_for(str(value or "auto"))


def scoring_dtype(device: torch.device, precision: object = "auto", *, cpu_bf16: bool = False) -> torch.dtype:
    """``scoring.precision`` -> autocast dtype by ``flanlab.hardware.resolve_precision``.

    auto = bf16 on CUDA, bf16 on a bf16-capable CPU only when ``cpu_bf16`` (the model opts in), else fp32.
    """
    return resolve_precision(device, precision, cpu_bf16=cpu_bf16, key="scoring.precision")


class Scorer(Protocol):
    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]: ...
    def generate(self, inputs: Sequence[str], max_new_tokens: int) -> list[str]: ...
    def input_limit(self) -> InputLimit: ...


def _continuation_logprob(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sum of log p(label) over positions whose label is not IGNORE; logits [B, T, V], labels [B, T]."""
    logprobs = F.log_softmax(logits.float(), dim=-1)
    mask = labels != IGNORE
    picked = logprobs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)


def _batcher(pairs: Sequence[tuple[str, str]], ctx_ids: dict[str, list[int]], conts: list[list[int]]) -> RequestBatcher:
    lengths = [len(ctx_ids[c]) + len(t) for (c, _), t in zip(pairs, conts, strict=True)]
    return RequestBatcher([c for c, _ in pairs], lengths)


def _cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """``text`` up to (not including) the first occurrence of any stop sequence."""
    cuts = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return text[: min(cuts)] if cuts else text


class _StopAtText(StoppingCriteria):
    """Stops a row once the text generated after position ``start`` contains a stop sequence."""

    def __init__(self, tokenizer, start: int, stops: Sequence[str]) -> None:
        self.tokenizer, self.start, self.stops = tokenizer, start, [s for s in stops if s]

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.start :], skip_special_tokens=True)
        return torch.tensor([any(s in t for s in self.stops) for t in texts], device=input_ids.device)


class _Base:
    ARCH = ""

    def __init__(self, model, tokenizer, *, batch_size: int = 32, include_eos: bool | None = None,
                 max_input_len: int = 512, delimiter: str = " ", dtype: torch.dtype = torch.float32,
                 stop_sequences: Sequence[str] = ("\n",), progress: bool = False) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.progress, self.label = progress, "score"  # callers set ``label`` to name the pass on its bar
        self.include_eos = EOS_BY_ARCH[self.ARCH] if include_eos is None else bool(include_eos)
        self.batch_size, self.max_input_len = batch_size, max_input_len
        self.delimiter, self.dtype, self.stop_sequences = delimiter, dtype, tuple(stop_sequences)
        self.model.eval()

    @property
    def device(self) -> torch.device:
        """Where the model's weights are; every input tensor is moved there."""
        return next(self.model.parameters()).device

    def _autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def input_limit(self) -> InputLimit:
        """Token counting and limit of this scorer's contexts (for fitting rows at render time)."""
        return InputLimit.for_tokenizer(self.tokenizer, self.ARCH, self.max_input_len)

    def _generate_batch(self, inputs: list[str], max_new_tokens: int) -> list[str]:
        raise NotImplementedError

    @torch.inference_mode()
    def generate(self, inputs: Sequence[str], max_new_tokens: int = 16) -> list[str]:
        """Greedy decoding, longest inputs first, outputs stripped and in input order."""
        batcher: RequestBatcher[str] = RequestBatcher(list(inputs), [len(s) for s in inputs])

        def batch(groups: list[Group]) -> dict[int, str]:
            with self._autocast():
                texts = self._generate_batch([str(g.context) for g in groups], max_new_tokens)
            return {i: text.strip() for g, text in zip(groups, texts, strict=True) for i in g.indices}

        return self._run(batcher, batch) if inputs else []

    def _run(self, batcher: RequestBatcher, batch) -> list:
        """Run the batcher, with a progress bar (rate, ETA) when ``progress`` is on; a batch size halved on
        out-of-memory stays halved for later calls."""
        bar = tqdm(total=len(batcher.groups), desc=self.label, unit="ctx", leave=False, dynamic_ncols=True,
                   disable=not self.progress)
        try:
            return batcher.run(batch, self.batch_size, on_batch=bar.update)
        finally:
            bar.close()
            self.batch_size = batcher.batch_size or self.batch_size


def _cache_argument(model) -> str:
    """The forward argument that takes a KV cache: ``cache`` from transformers 5.2x, ``past_key_values`` before."""
    return "cache" if "cache" in inspect.signature(unwrap(model).forward).parameters else "past_key_values"


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
    ``rest(which, inputs, labels) -> logits`` in batches, reusing context ``which``'s cache. Index and
    input tensors are made on ``first``'s device (the model's).
    """
    dev = first.device
    rows = [(j, i) for j, g in enumerate(groups) for i in g.indices]
    which_ctx = torch.tensor([j for j, _ in rows], device=dev)
    heads = first[which_ctx, torch.tensor([conts[i][0] for _, i in rows], device=dev)]
    out = dict(zip([i for _, i in rows], heads.tolist(), strict=True))
    longer = [(j, i) for j, i in rows if len(conts[i]) > 1]
    for r0 in range(0, len(longer), batch_size):
        part = longer[r0 : r0 + batch_size]
        which = torch.tensor([j for j, _ in part], device=dev)
        labels = right_pad([conts[i][1:] for _, i in part], IGNORE, dev)
        logits = rest(which, right_pad([conts[i][:-1] for _, i in part], pad, dev), labels)
        for (_, i), value in zip(part, _continuation_logprob(logits, labels).tolist(), strict=True):
            out[i] += value
    return out


class Seq2SeqScorer(_Base):
    """Encoder-decoder scoring: each unique context is encoded once, and all its options are
    scored in batched decoder passes that reuse the encoder output."""

    ARCH = "seq2seq"

    @torch.inference_mode()
    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        tok = self.tokenizer
        unique = list(dict.fromkeys(c for c, _ in pairs))
        encoded = tok(unique, truncation=True, max_length=self.max_input_len)["input_ids"]
        ctx_ids = dict(zip(unique, encoded, strict=True))
        conts = tok([c for _, c in pairs], add_special_tokens=self.include_eos)["input_ids"]
        batcher = _batcher(pairs, ctx_ids, conts)
        encoder = self.model.get_encoder()
        start = self.model.config.decoder_start_token_id

        def batch(groups: list[Group]) -> dict[int, float]:
            dev = self.device
            ids = right_pad([ctx_ids[g.context] for g in groups], tok.pad_token_id, dev)
            mask = right_pad([[1] * len(ctx_ids[g.context]) for g in groups], 0, dev)
            with self._autocast():
                hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
                # One decoder step per context: the first option token's log-probabilities, and a cache
                # holding the cross-attention keys/values of the encoder output (computed once).
                step = self.model(encoder_outputs=(hidden,), attention_mask=mask, use_cache=True,
                                  decoder_input_ids=torch.full((len(groups), 1), start, dtype=torch.long, device=dev))
            first = F.log_softmax(step.logits[:, 0].float(), -1)
            cache = _returned_cache(step)
            own, cross = _layers(cache.self_attention_cache), _layers(cache.cross_attention_cache)
            def rest(which: torch.Tensor, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
                cache = EncoderDecoderCache(_select(own, which), _select(cross, which))
                with self._autocast():
                    return self.model(encoder_outputs=(hidden[which],), attention_mask=mask[which], use_cache=True,
                                      decoder_input_ids=inputs, **{_cache_argument(self.model): cache}).logits

            return _option_logprobs(groups, first, conts, self.batch_size, tok.pad_token_id, rest)

        return self._run(batcher, batch)

    def _generate_batch(self, inputs: list[str], max_new_tokens: int) -> list[str]:
        rows = self.tokenizer(inputs, truncation=True, max_length=self.max_input_len)["input_ids"]
        ids = right_pad(rows, self.tokenizer.pad_token_id, self.device)
        mask = right_pad([[1] * len(r) for r in rows], 0, self.device)
        gen = self.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                  do_sample=False, num_beams=1)
        return self.tokenizer.batch_decode(gen, skip_special_tokens=True)


def _context_window(model) -> int | None:
    """The decoder-only model's position limit, when its config names one."""
    cfg = model.config
    value = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None)
    return int(value) if value else None


def _left_truncate(ids: list[int], keep: int, head: int) -> list[int]:
    """At most ``keep`` ids: the first ``head`` (the BOS) stay, the rest is cut from the left."""
    if len(ids) <= keep:
        return ids
    return ids[:head] + ids[len(ids) - max(keep - head, 1):]


class CausalScorer(_Base):
    """Decoder-only scoring that runs each unique context once and reuses its KV cache for all options."""

    ARCH = "causal"

    def _continuations(self, pairs: Sequence[tuple[str, str]]) -> list[list[int]]:
        conts = self.tokenizer([self.delimiter + c for _, c in pairs], add_special_tokens=False)["input_ids"]
        if self.include_eos:
            conts = [[*t, self.tokenizer.eos_token_id] for t in conts]
        for (ctx, cont), t in zip(pairs, conts, strict=True):
            if not t:
                raise ValueError(f"continuation {cont!r} of context {ctx[:40]!r} is empty after tokenization")
        return conts

    def _contexts(self, texts: list[str], conts: list[list[int]], owners: dict[str, list[int]]) -> list[list[int]]:
        """Context ids: BOS first where the model expects it, at most ``max_input_len`` ids (BOS kept), and
        short enough to fit the model's position limit beside the context's longest option."""
        tok = self.tokenizer
        head, window = len(bos_prefix(tok)), _context_window(self.model)
        prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        out = []
        for text, ids in zip(texts, causal_contexts(tok, texts, self.max_input_len), strict=True):
            ids = ids or [prefix]  # an empty context is scored after BOS (or EOS), as lm-eval does
            if window is not None:
                ids = _left_truncate(ids, window - max(len(conts[i]) for i in owners[text]), head)
            out.append(ids)
        return out

    def _first_logprobs(self, ids: torch.Tensor, mask: torch.Tensor, lens: torch.Tensor):
        """Log-probabilities after each context's last real token, [G, V], and the forward's output (its cache).

        The output layer runs on those G positions only (the body, then the head on gathered hidden
        states); a model with no separable head keeps its own forward at the batch's distinct last positions.
        """
        rows = torch.arange(len(lens), device=ids.device)
        body = backbone(self.model)
        with self._autocast():
            if body is not None:
                out = body(input_ids=ids, attention_mask=mask, use_cache=True)
                logits = output_logits(self.model, out.last_hidden_state[rows, lens - 1])
            else:
                last = torch.unique(lens - 1)
                out = self.model(input_ids=ids, attention_mask=mask, use_cache=True, logits_to_keep=last)
                logits = out.logits[rows, torch.searchsorted(last, lens - 1)]
        return F.log_softmax(logits.float(), -1), out

    @torch.inference_mode()
    def loglikelihoods(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        tok = self.tokenizer
        owners: dict[str, list[int]] = {}
        for i, (c, _) in enumerate(pairs):
            owners.setdefault(c, []).append(i)
        conts = self._continuations(pairs)
        unique = list(owners)
        ctx_ids = dict(zip(unique, self._contexts(unique, conts, owners), strict=True))
        batcher = _batcher(pairs, ctx_ids, conts)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

        def batch(groups: list[Group]) -> dict[int, float]:
            dev = self.device
            ctxs = [ctx_ids[g.context] for g in groups]
            lens = torch.tensor([len(c) for c in ctxs], device=dev)
            ids, mask = right_pad(ctxs, pad, dev), right_pad([[1] * len(c) for c in ctxs], 0, dev)
            first, out = self._first_logprobs(ids, mask, lens)
            layers = _layers(_returned_cache(out))
            def rest(which: torch.Tensor, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
                with self._autocast():
                    return self.model(
                        input_ids=inputs, use_cache=True, **{_cache_argument(self.model): _select(layers, which)},
                        attention_mask=torch.cat([mask[which], (labels != IGNORE).long()], dim=1),
                        position_ids=lens[which, None] + torch.arange(inputs.shape[1], device=dev),
                    ).logits

            return _option_logprobs(groups, first, conts, self.batch_size, pad, rest)

        return self._run(batcher, batch)

    def _generate_batch(self, inputs: list[str], max_new_tokens: int) -> list[str]:
        """Greedy continuation of each input, stopped at EOS or at the first stop sequence (cut there)."""
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        rows = causal_contexts(self.tokenizer, inputs, self.max_input_len)
        width = max(len(r) for r in rows)
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=self.device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=self.device)
        stops = [s for s in self.stop_sequences if s]
        criteria = StoppingCriteriaList([_StopAtText(self.tokenizer, width, stops)] if stops else [])
        gen = self.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                  do_sample=False, num_beams=1, pad_token_id=pad, stopping_criteria=criteria)
        texts = self.tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True)
        return [_cut_at_stop(t, stops) for t in texts]


SCORERS: dict[str, type[_Base]] = {"seq2seq": Seq2SeqScorer, "causal": CausalScorer}


def _progress(cfg) -> bool:
    """``scoring.progress``; false where it points at a ``train.progress`` the config does not hold
    (the scoring group loaded on its own, as the benchmarks do)."""
    return bool(OmegaConf.select(cfg, "progress", default=False, throw_on_resolution_failure=False))


def make_scorer(loaded, cfg: DictConfig, *, cpu_bf16: bool = False) -> Scorer:
    """The scorer for ``loaded.arch`` from the ``scoring`` config; puts the model on ``scoring.device``.

    ``cpu_bf16``: the model config opts in to bf16 autocast on a bf16-capable CPU under ``precision: auto``.
    """
    device = scoring_device(cfg.device)
    dtype = scoring_dtype(device, cfg.precision, cpu_bf16=cpu_bf16)
    loaded.model.to(device)
    log.info("scoring on %s (%s)", device, "bf16 autocast" if dtype == torch.bfloat16 else "fp32")
    stops = cfg.stop_sequences
    return SCORERS[loaded.arch](
        loaded.model, loaded.tokenizer, batch_size=int(cfg.batch_size),
        include_eos=resolve_include_eos(cfg.include_eos, loaded.arch),
        max_input_len=int(cfg.max_input_len), delimiter=str(cfg.delimiter), dtype=dtype,
        stop_sequences=tuple(str(s) for s in (stops or ())), progress=_progress(cfg),
    )
