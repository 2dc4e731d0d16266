"""Model FLOPs per training step and the device peak they are compared with (MFU).

FLOP formula (model FLOPs: padding and masked-out packed positions are *not* counted):

* Dense layers: 6 FLOPs per parameter per token that passes through it (2 forward, 4 backward;
  Kaplan et al. 2020). With a frozen base (LoRA: ``frozen_base=True``) the backward pass computes only
  the input gradients, not the weight gradients: 4 FLOPs per parameter per token (the adapters' own
  FLOPs, under 1% at r=8, are left out). Embedding lookups are free; the LM head (``d_model x vocab``) is a matmul
  and counts. Seq2seq: encoder tokens x encoder non-embedding parameters + decoder tokens x
  (decoder non-embedding parameters + LM head). Decoder-only: tokens x all non-embedding
  parameters + LM head x the tokens it runs at (every token, or with target-only logits only the
  positions that predict a target: pass ``head_tokens``).
* Attention scores and weighted values: 12 x layers x d_attn x T^2 per example of T tokens per
  self-attention (QK^T and AV, 2 FLOPs per multiply-add, x3 for backward; PaLM appendix B), and
  12 x layers x d_attn x T_dec x T_enc for T5's cross-attention.

MFU = achieved model FLOP/s / peak FLOP/s. The peak is logged beside the MFU with its source:
``train.peak_flops`` if set; on CUDA a table of dense bf16 (or TF32) tensor-core peaks; on CPU (and
an unknown GPU) a *measured* peak: square matmuls in the autocast dtype for about half a second,
best of a few rounds, cached in ``<cache_dir>/hardware/peak_<device>_<dtype>_<threads>.json`` and
reused while the CPU model name (or GPU name) and thread count match. Delete the file to measure
again; a calibration taken while other jobs share the cores reads low (its load average is saved).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from flanlab.hardware import cpu_model_name
from flanlab.io import atomic_write_json

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

    def __init__(self, model: torch.nn.Module, arch: str, *, frozen_base: bool = False) -> None:
        cfg = model.config
        self.arch = arch
        self.dense = 4 if frozen_base else 6  # FLOPs per parameter per token, forward and backward
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

    def step(self, input_lens: Sequence[int], target_lens: Sequence[int], head_tokens: int | None = None) -> float:
        """FLOPs for examples with these (unpadded) input and target lengths (causal: whole sequence in input).

        ``head_tokens`` (causal only): how many positions the LM head ran at; None = every input token.
        """
        if self.arch == "seq2seq":
            dense = self.dense * (self.enc * sum(input_lens) + (self.dec + self.head) * sum(target_lens))
            attn = 12 * self.d_attn * (self.enc_layers * sum(t * t for t in input_lens)
                                       + self.dec_layers * sum(t * t + t * s for t, s in zip(target_lens, input_lens,
                                                                                             strict=True)))
            return float(dense + attn)
        head = sum(input_lens) if head_tokens is None else head_tokens
        dense = self.dense * (self.dec * sum(input_lens) + self.head * head)
        return float(dense + 12 * self.d_attn * self.dec_layers * sum(t * t for t in input_lens))


CALIBRATION = {"size": 1024, "seconds": 0.5, "rounds": 3}
DTYPE_NAMES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


def default_cache_dir() -> Path:
    """``paths.cache_dir``'s default: $FLANLAB_CACHE, else ~/.cache/flanlab."""
    return Path(os.environ.get("FLANLAB_CACHE") or Path.home() / ".cache" / "flanlab")


def measure_matmul_flops(device: torch.device, dtype: torch.dtype, size: int, seconds: float, rounds: int) -> float:
    """Best FLOP/s over ``rounds`` rounds of back-to-back ``size`` x ``size`` matmuls, ``seconds`` in all."""
    gen = torch.Generator(device=device).manual_seed(0)  # its own generator: calibrating must not move the run's RNG
    a = torch.randn(size, size, device=device, generator=gen).to(dtype)
    b = torch.randn(size, size, device=device, generator=gen).to(dtype)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    torch.mm(a, b)  # warm-up: thread pool, kernel selection
    sync()
    best = 0.0
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        while True:
            torch.mm(a, b)
            count += 1
            sync()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / rounds:
                break
        best = max(best, 2 * size**3 * count / elapsed)
    return best


def machine_name(device: torch.device) -> str:
    """What a calibration is keyed by besides dtype and threads: the CPU model name or the GPU name."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model_name()


def calibrated_peak(device: torch.device, dtype: torch.dtype, cache_dir: str | Path | None = None) -> float:
    """The measured matmul peak for (machine, dtype, threads), from the cache or measured once and cached."""
    threads = torch.get_num_threads()
    name = DTYPE_NAMES.get(dtype, str(dtype).removeprefix("torch."))
    folder = Path(cache_dir or default_cache_dir()).expanduser() / "hardware"
    path = folder / f"peak_{device.type}_{name}_{threads}.json"
    machine = machine_name(device)
    try:
        cached = json.loads(path.read_text())
        if cached.get("machine") == machine and cached.get("threads") == threads and cached.get("dtype") == name:
            return float(cached["flops"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    flops = measure_matmul_flops(device, dtype, **CALIBRATION)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, {"machine": machine, "device": device.type, "dtype": name, "threads": threads,
                             "flops": flops, "torch": torch.__version__, **CALIBRATION,
                             "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None})
    return flops


def peak_flops(device: torch.device, dtype: torch.dtype, override: float | None = None,
               cache_dir: str | Path | None = None) -> tuple[float, str]:
    """The peak FLOP/s MFU is measured against, and where the figure came from."""
    if override:
        return float(override), "train.peak_flops"
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, (bf16, tf32) in GPU_PEAK.items():
            if key in name:
                return (bf16 if dtype == torch.bfloat16 else tf32), f"table: {name}"
    return calibrated_peak(device, dtype, cache_dir), "measured matmul, cached"
