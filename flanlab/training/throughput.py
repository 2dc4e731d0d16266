"""Model FLOPs per training step and the device peak they are compared with (MFU).

FLOP formula (model FLOPs: padding and masked-out packed positions are *not* counted):

* Dense layers: 6 FLOPs per parameter per token that passes through it (2 forward, 4 backward;
  Kaplan et al. 2020). Embedding lookups are free; the LM head (``d_model x vocab``) is a matmul
  and counts. Seq2seq: encoder tokens x encoder non-embedding parameters + decoder tokens x
  (decoder non-embedding parameters + LM head). Decoder-only: tokens x (all non-embedding
  parameters + LM head).
* Attention scores and weighted values: 12 x layers x d_attn x T^2 per example of T tokens per
  self-attention (QK^T and AV, 2 FLOPs per multiply-add, x3 for backward; PaLM appendix B), and
  12 x layers x d_attn x T_dec x T_enc for T5's cross-attention.

MFU = achieved model FLOP/s / peak FLOP/s. The peak is an *assumption* logged beside the MFU:
``train.peak_flops`` if set; on CUDA a table of dense bf16 (or TF32) tensor-core peaks; on CPU
``threads x clock x 32`` fp32 FLOPs per cycle (two 256-bit FMA pipes).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

GPU_PEAK = {  # dense tensor-core FLOP/s: (bf16, tf32)
    "H200": (989e12, 494e12), "H100": (989e12, 494e12), "A100": (312e12, 156e12), "L40S": (362e12, 183e12),
    "L4": (121e12, 60e12), "A10": (125e12, 62e12), "V100": (125e12, 125e12), "T4": (65e12, 65e12),
}


def _params(module: torch.nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def _embedding_params(module: torch.nn.Module) -> int:
    seen: set[int] = set()
    total = 0
    for sub in module.modules():
        if isinstance(sub, torch.nn.Embedding) and id(sub.weight) not in seen:
            seen.add(id(sub.weight))
            total += sub.weight.numel()
    return total


class FlopCounter:
    """Model FLOPs of one training step from the lengths of the examples it saw."""

    def __init__(self, model: torch.nn.Module, arch: str) -> None:
        cfg = model.config
        self.arch = arch
        d_model = getattr(cfg, "d_model", None) or cfg.hidden_size
        self.head = d_model * cfg.vocab_size
        heads = getattr(cfg, "num_heads", None) or cfg.num_attention_heads
        self.d_attn = heads * (getattr(cfg, "d_kv", None) or d_model // heads)
        if arch == "seq2seq":
            enc, dec = model.get_encoder(), model.get_decoder()
            self.enc = _params(enc) - _embedding_params(enc)
            self.dec = _params(dec) - _embedding_params(dec)
            self.enc_layers = cfg.num_layers
            self.dec_layers = getattr(cfg, "num_decoder_layers", None) or cfg.num_layers
        else:
            self.dec = _params(model) - _embedding_params(model) - (0 if cfg.tie_word_embeddings else self.head)
            self.enc, self.enc_layers = 0, 0
            self.dec_layers = cfg.num_hidden_layers

    def step(self, input_lens: Sequence[int], target_lens: Sequence[int]) -> float:
        """FLOPs for examples with these (unpadded) input and target lengths (causal: whole sequence in input)."""
        if self.arch == "seq2seq":
            dense = 6 * (self.enc * sum(input_lens) + (self.dec + self.head) * sum(target_lens))
            attn = 12 * self.d_attn * (self.enc_layers * sum(t * t for t in input_lens)
                                       + self.dec_layers * sum(t * t + t * s for t, s in zip(target_lens, input_lens,
                                                                                             strict=True)))
            return float(dense + attn)
        dense = 6 * (self.dec + self.head) * sum(input_lens)
        return float(dense + 12 * self.d_attn * self.dec_layers * sum(t * t for t in input_lens))


def cpu_clock_hz() -> float:
    try:
        with open("/proc/cpuinfo") as handle:
            mhz = [float(line.split(":")[1]) for line in handle if line.lower().startswith("cpu mhz")]
        return max(mhz) * 1e6 if mhz else 2.5e9
    except OSError:
        return 2.5e9


def peak_flops(device: torch.device, dtype: torch.dtype, override: float | None = None) -> tuple[float, str]:
    """The peak FLOP/s MFU is measured against, and where the figure came from."""
    if override:
        return float(override), "train.peak_flops"
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, (bf16, tf32) in GPU_PEAK.items():
            if key in name:
                return (bf16 if dtype == torch.bfloat16 else tf32), f"table: {name}"
        return 0.0, f"unknown GPU {name}: set train.peak_flops"
    threads = torch.get_num_threads()
    return threads * cpu_clock_hz() * 32, f"cpu: {threads} threads x clock x 32 fp32 FLOP/cycle"
