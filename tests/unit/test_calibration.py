"""The measured matmul peak behind MFU: cached per machine, dtype and thread count; reused without a matmul."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import datasets
import pytest
import torch
from omegaconf import OmegaConf
from transformers import LlamaConfig, LlamaForCausalLM

from flanlab.data.token_layout import IGNORE
from flanlab.models.load import LoadedModel
from flanlab.tracking.run import NullTracker
from flanlab.training import throughput
from flanlab.training.loop import fit
from flanlab.training.throughput import FlopCounter, calibrated_peak, measure_matmul_flops, peak_flops
from tests.conftest import CONF_DIR

CPU = torch.device("cpu")


@pytest.fixture
def matmuls(monkeypatch):
    """Replace the matmul calibration with a counter; returns the list of (dtype, size) it was asked for."""
    calls = []

    def fake(device, dtype, size, seconds, rounds):
        calls.append((dtype, size))
        return 1e11 * (2 if dtype == torch.bfloat16 else 1)

    monkeypatch.setattr(throughput, "measure_matmul_flops", fake)
    monkeypatch.setattr(throughput, "machine_name", lambda device: "Test CPU 9000")
    return calls


def test_the_cache_is_written_once_and_reused(tmp_path, matmuls):
    first = calibrated_peak(CPU, torch.float32, tmp_path)
    second = calibrated_peak(CPU, torch.float32, tmp_path)
    assert first == second == 1e11 and len(matmuls) == 1
    threads = torch.get_num_threads()
    path = tmp_path / "hardware" / f"peak_cpu_fp32_{threads}.json"
    saved = json.loads(path.read_text())
    assert saved["machine"] == "Test CPU 9000" and saved["threads"] == threads and saved["dtype"] == "fp32"


def test_the_key_includes_dtype_and_threads(tmp_path, matmuls, monkeypatch):
    calibrated_peak(CPU, torch.float32, tmp_path)
    assert calibrated_peak(CPU, torch.bfloat16, tmp_path) == 2e11
    monkeypatch.setattr(torch, "get_num_threads", lambda: 97)
    calibrated_peak(CPU, torch.float32, tmp_path)
    calibrated_peak(CPU, torch.float32, tmp_path)
    assert [d for d, _ in matmuls] == [torch.float32, torch.bfloat16, torch.float32]
    names = sorted(p.name for p in (tmp_path / "hardware").iterdir())
    assert names[-1] == "peak_cpu_fp32_97.json" and any("_bf16_" in n for n in names)


def test_another_cpu_model_under_the_same_cache_measures_again(tmp_path, matmuls, monkeypatch):
    calibrated_peak(CPU, torch.float32, tmp_path)
    monkeypatch.setattr(throughput, "machine_name", lambda device: "Other CPU")
    calibrated_peak(CPU, torch.float32, tmp_path)
    assert len(matmuls) == 2


def test_an_override_wins_and_null_means_measured(tmp_path, matmuls):
    assert peak_flops(CPU, torch.float32, 5e12, tmp_path) == (5e12, "train.peak_flops")
    assert not matmuls
    assert peak_flops(CPU, torch.float32, None, tmp_path) == (1e11, "measured matmul, cached")


def test_the_real_calibration_returns_a_positive_rate_at_a_tiny_size():
    assert measure_matmul_flops(CPU, torch.float32, size=16, seconds=0.002, rounds=2) > 0


def test_fit_reports_mfu_against_the_cached_measured_peak(tmp_path, matmuls):
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                         num_attention_heads=4, num_key_value_heads=4, pad_token_id=0))
    rng = random.Random(0)
    ids = [[rng.randrange(3, 64) for _ in range(rng.randrange(3, 10))] for _ in range(16)]
    data = datasets.Dataset.from_dict({"input_ids": [[*i, 5, 1] for i in ids],
                                       "labels": [[IGNORE] * len(i) + [5, 1] for i in ids]})
    cfg = OmegaConf.merge(OmegaConf.load(CONF_DIR / "train" / "default.yaml"),
                          {"steps": 2, "batch_size": 8, "warmup_steps": 1, "log_every": 1, "progress": False,
                           "device": "cpu", "precision": "fp32"})
    loaded = LoadedModel(model, SimpleNamespace(pad_token_id=0), "causal", "tiny")
    res = fit(loaded, data, cfg, NullTracker(), seed=0, cache_dir=tmp_path)
    assert (res.peak_flops, res.peak_flops_source) == (1e11, "measured matmul, cached")
    assert res.mfu > 0 and len(matmuls) == 1
    assert (tmp_path / "hardware" / f"peak_cpu_fp32_{torch.get_num_threads()}.json").exists()


def test_head_tokens_count_the_lm_head_only_where_it_ran():
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                         num_attention_heads=4, num_key_value_heads=4))
    counter = FlopCounter(model, "causal")
    every, targets = counter.step([20], [20]), counter.step([20], [20], head_tokens=5)
    assert every - targets == 6 * 32 * 64 * 15


def test_a_frozen_base_counts_four_flops_per_parameter_and_token():
    """LoRA computes no weight gradients of the base: 2 forward + 2 backward (input gradients) per parameter."""
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                         num_attention_heads=4, num_key_value_heads=4))
    full, lora = FlopCounter(model, "causal"), FlopCounter(model, "causal", frozen_base=True)
    attention = 12 * full.d_attn * full.dec_layers * 20 * 20
    assert full.step([20], [20]) - attention == 6 * (full.dec + full.head) * 20
    assert lora.step([20], [20]) - attention == 4 * (full.dec + full.head) * 20


def test_calibration_leaves_the_global_rng_alone():
    """A first run calibrates and a resumed run reads the cache: both must draw the same training randomness."""
    from flanlab.training.throughput import measure_matmul_flops

    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    measure_matmul_flops(torch.device("cpu"), torch.float32, size=32, seconds=0.01, rounds=1)
    assert torch.equal(torch.rand(4), expected)
