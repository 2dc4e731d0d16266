"""What the machine can do: native bf16 on this CPU, and the autocast dtype a run should use.

Precision rule (``train.precision`` / ``scoring.precision``):

* ``fp32`` / ``bf16``: forced. bf16 on a CPU without native BF16 instructions is honoured, with a
  one-line warning that it will be slow (torch emulates it).
* ``auto``: bf16 on CUDA; bf16 on a CPU with AVX512-BF16 or AMX *when the model opts in*
  (``cpu_bf16=True``, from the model config's ``cpu_bf16`` key, true only for the Gemma configs);
  fp32 everywhere else. The tiny models built from config keep fp32 on CPU, so the default
  ablation computes what it always did.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from flanlab.errors import ConfigError

log = logging.getLogger(__name__)
PRECISIONS = ("auto", "fp32", "bf16")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
CPUINFO = Path("/proc/cpuinfo")


def _cpuinfo() -> str | None:
    try:
        return CPUINFO.read_text()
    except OSError:
        return None


def cpu_flags(text: str | None = None) -> set[str]:
    """The CPU feature flags from /proc/cpuinfo's first ``flags`` line (empty if unreadable)."""
    text = _cpuinfo() if text is None else text
    for line in (text or "").splitlines():
        if line.lower().startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_model_name(text: str | None = None) -> str:
    """The CPU's model name from /proc/cpuinfo, or ``unknown-cpu``."""
    text = _cpuinfo() if text is None else text
    for line in (text or "").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown-cpu"


def _torch_says_bf16() -> bool:
    """torch's own check (oneDNN bf16 kernels available); true on plain AVX512 too, where bf16 is emulated."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        return bool(torch.backends.mkldnn.is_available() and check is not None and check())
    except (RuntimeError, AttributeError):
        return False


def cpu_supports_bf16() -> bool:
    """Native bf16 matmuls on this CPU: AVX512-BF16 or AMX in /proc/cpuinfo.

    Only where /proc/cpuinfo has no flags (not Linux) does torch's oneDNN check decide.
    """
    flags = cpu_flags()
    if flags:
        return any(f in flags for f in BF16_FLAGS)
    return _torch_says_bf16()


def resolve_precision(device: torch.device, requested: object = "auto", *, cpu_bf16: bool = False,
                      key: str = "train.precision") -> torch.dtype:
    """``auto`` | ``fp32`` | ``bf16`` -> the autocast dtype for ``device`` (see the module docstring)."""
    text = str(requested or "auto")
    if text not in PRECISIONS:
        raise ConfigError(f"{key} must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if text == "fp32":
        return torch.float32
    if device.type == "cuda":
        return torch.bfloat16
    if text == "bf16":
        if device.type == "cpu" and not cpu_supports_bf16():
            log.warning("%s=bf16 on a CPU without AVX512-BF16 or AMX: honoured, but it will be slow", key)
        return torch.bfloat16
    return torch.bfloat16 if device.type == "cpu" and cpu_bf16 and cpu_supports_bf16() else torch.float32
