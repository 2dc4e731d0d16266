"""Precision rule: CPU bf16 detection from /proc/cpuinfo, resolve_precision, and train.precision in fit."""

from __future__ import annotations

import logging
import os
import platform
from pathlib import Path
from types import SimpleNamespace

import datasets
import pytest
import torch
from omegaconf import OmegaConf
from transformers import LlamaConfig, LlamaForCausalLM, T5Config, T5ForConditionalGeneration

from flanlab import hardware
from flanlab.data.token_layout import IGNORE
from flanlab.errors import ConfigError
from flanlab.hardware import cpu_model_name, cpu_supports_bf16, resolve_precision
from flanlab.models.load import LoadedModel
from flanlab.scoring.scorers import scoring_dtype
from flanlab.tracking.run import NullTracker
from flanlab.training import loop
from tests.conftest import CONF_DIR

CPU, CUDA = torch.device("cpu"), torch.device("cuda")
INFO = "processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu sse avx2 avx512f {extra}\n\nprocessor\t: 1\n"


@pytest.fixture
def cpuinfo(tmp_path, monkeypatch):
    """Point flanlab.hardware at a fake /proc/cpuinfo; call it with the extra flags."""
    def write(extra: str) -> None:
        path = tmp_path / "cpuinfo"
        path.write_text(INFO.format(extra=extra))
        monkeypatch.setattr(hardware, "CPUINFO", path)
    return write


@pytest.mark.parametrize("extra,expected", [("avx512_bf16", True), ("amx_bf16 amx_tile", True),
                                            ("avx512bw avx512vl", False), ("", False)])
def test_cpu_bf16_comes_from_the_cpuinfo_flags(cpuinfo, monkeypatch, extra, expected):
    monkeypatch.setattr(hardware, "_torch_says_bf16", lambda: True)  # emulated bf16 must not count
    cpuinfo(extra)
    assert cpu_supports_bf16() is expected
    assert cpu_model_name() == "Test CPU 9000"


@pytest.mark.parametrize("torch_says", [True, False])
def test_without_cpuinfo_torch_decides(tmp_path, monkeypatch, torch_says):
    monkeypatch.setattr(hardware, "CPUINFO", tmp_path / "absent")
    monkeypatch.setattr(hardware, "_torch_says_bf16", lambda: torch_says)
    assert cpu_supports_bf16() is torch_says
    assert cpu_model_name() == "unknown-cpu"


AVX512_CORE = {"avx512f", "avx512bw", "avx512vl", "avx512dq"}  # oneDNN's avx512_core: its bf16 kernels need no more


def test_torch_check_agrees_with_this_cpu():
    """torch's oneDNN bf16 check on this machine, against two probes that do not go through it: the kernel's CPU
    flags (read here, not by flanlab.hardware) and ATen's own dispatch capability. oneDNN offers bf16 from
    avx512_core (AVX512 F/BW/VL/DQ) up, emulated below AVX512-BF16: so torch says yes wherever
    ``cpu_supports_bf16`` does, and on plain AVX512 too, which is why flanlab reads the flags instead."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip(f"the flag rule is x86's; this is {platform.machine()}")
    if os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA"):
        pytest.skip("ONEDNN_MAX_CPU_ISA caps what oneDNN uses below what the CPU has")
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    flags = next((set(line.split(":", 1)[1].split()) for line in text.splitlines() if line.startswith("flags")), set())
    if not flags:
        pytest.skip("/proc/cpuinfo lists no flags")
    says = hardware._torch_says_bf16()
    assert type(says) is bool
    if not torch.backends.mkldnn.is_available():
        assert says is False  # no oneDNN, no bf16 kernels to ask about
        return
    native = bool(flags & set(hardware.BF16_FLAGS))
    if flags >= AVX512_CORE or native:
        assert says is True, f"torch says no bf16 on a CPU with {sorted(flags & {*AVX512_CORE, *hardware.BF16_FLAGS})}"
    elif "avx_ne_convert" not in flags:  # AVX2 parts with AVX-NE-CONVERT get oneDNN bf16 too; nothing to claim there
        assert says is False, f"torch says bf16 on a CPU without AVX512 ({torch.backends.cpu.get_cpu_capability()})"
    if torch.backends.cpu.get_cpu_capability() == "AVX512":  # ATen dispatches AVX512 kernels: avx512_core is there
        assert says is True
    assert hardware.cpu_supports_bf16() is native  # and flanlab's rule reads the same flags


@pytest.mark.parametrize("supported,cpu_bf16,expected", [
    (True, True, torch.bfloat16), (True, False, torch.float32), (False, True, torch.float32),
    (False, False, torch.float32)])
def test_auto_on_cpu_needs_both_hardware_and_the_model_opt_in(monkeypatch, supported, cpu_bf16, expected):
    monkeypatch.setattr(hardware, "cpu_supports_bf16", lambda: supported)
    assert resolve_precision(CPU, "auto", cpu_bf16=cpu_bf16) == expected


def test_auto_is_bf16_on_cuda_and_forced_values_win(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_supports_bf16", lambda: True)
    assert resolve_precision(CUDA, "auto") == torch.bfloat16
    assert resolve_precision(CUDA, "fp32") == torch.float32
    assert resolve_precision(CPU, "fp32", cpu_bf16=True) == torch.float32
    assert resolve_precision(CPU, "bf16") == torch.bfloat16
    assert resolve_precision(CPU, None) == torch.float32


def test_forced_bf16_on_a_cpu_without_it_warns_once_and_is_honoured(monkeypatch, caplog):
    monkeypatch.setattr(hardware, "cpu_supports_bf16", lambda: False)
    with caplog.at_level(logging.WARNING, logger="flanlab.hardware"):
        assert resolve_precision(CPU, "bf16") == torch.bfloat16
    (record,) = caplog.records
    assert "slow" in record.getMessage() and "\n" not in record.getMessage()


def test_bad_values_name_the_key():
    with pytest.raises(ConfigError, match=r"train\.precision"):
        resolve_precision(CPU, "fp8")
    with pytest.raises(ConfigError, match=r"scoring\.precision"):
        scoring_dtype(CPU, "fp16")


def test_scoring_dtype_keeps_fp32_on_cpu_unless_asked(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_supports_bf16", lambda: True)
    assert scoring_dtype(CPU) == torch.float32
    assert scoring_dtype(CPU, "bf16") == torch.bfloat16
    assert scoring_dtype(CPU, "auto", cpu_bf16=True) == torch.bfloat16
    assert scoring_dtype(CUDA, "auto") == torch.bfloat16


def _tiny(arch: str) -> LoadedModel:
    torch.manual_seed(0)
    if arch == "seq2seq":
        model = T5ForConditionalGeneration(T5Config(
            vocab_size=64, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_decoder_layers=1, num_heads=4,
            dropout_rate=0.0, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0))
    else:
        model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                             num_attention_heads=4, num_key_value_heads=4, pad_token_id=0))
    return LoadedModel(model, SimpleNamespace(pad_token_id=0), arch, "tiny")


def _data(arch: str) -> datasets.Dataset:
    ids = [[3 + (i * 7 + j) % 60 for j in range(4 + i % 6)] + [1] for i in range(16)]
    if arch == "seq2seq":
        return datasets.Dataset.from_dict({"input_ids": ids, "labels": [[i[0], 1] for i in ids]})
    return datasets.Dataset.from_dict({"input_ids": [[*i, i[0], 1] for i in ids],
                                       "labels": [[IGNORE] * len(i) + [i[0], 1] for i in ids]})


@pytest.mark.parametrize("arch", ["seq2seq", "causal"])
@pytest.mark.parametrize("precision,cpu_bf16,expected", [
    ("fp32", True, torch.float32), ("bf16", False, torch.bfloat16), ("auto", False, torch.float32),
    ("auto", True, torch.bfloat16)])
def test_train_precision_keeps_working_on_tiny_models(monkeypatch, arch, precision, cpu_bf16, expected):
    monkeypatch.setattr(hardware, "cpu_supports_bf16", lambda: True)
    seen = []
    monkeypatch.setattr(loop, "peak_flops", lambda device, dtype, *a, **k: seen.append(dtype) or (1e9, "test"))
    cfg = OmegaConf.merge(OmegaConf.load(CONF_DIR / "train" / "default.yaml"),
                          {"steps": 3, "batch_size": 8, "warmup_steps": 1, "log_every": 1, "progress": False,
                           "device": "cpu", "precision": precision})
    res = loop.fit(_tiny(arch), _data(arch), cfg, NullTracker(), seed=0, cpu_bf16=cpu_bf16)
    assert seen == [expected]
    assert all(torch.isfinite(torch.tensor(loss)) for _, loss in res.losses)
