"""Packing and bucketing: packed forward passes equal padded ones, and buckets cut padding."""

from __future__ import annotations

import random

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, T5Config, T5ForConditionalGeneration

from flanlab.data.collate import PaddedCollator
from flanlab.data.packing import PackedCollator, balance
from flanlab.data.token_layout import IGNORE
from flanlab.errors import ConfigError
from flanlab.training.model import TrainModule
from flanlab.training.sampler import BatchSampler, sort_key


def _rows(arch: str, n: int = 12, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        ctx = [rng.randrange(3, 60) for _ in range(rng.randrange(2, 20))]
        tgt = [rng.randrange(3, 60) for _ in range(rng.randrange(1, 6))] + [1]
        if arch == "seq2seq":
            rows.append({"input_ids": [*ctx, 1], "labels": tgt})
        else:
            rows.append({"input_ids": ctx + tgt, "labels": [IGNORE] * len(ctx) + tgt})
    return rows


def _model(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if arch == "seq2seq":
        cfg = T5Config(vocab_size=64, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
                       dropout_rate=0.0, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
        return T5ForConditionalGeneration(cfg).eval()
    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=4, pad_token_id=0, eos_token_id=1, bos_token_id=1)
    return LlamaForCausalLM(cfg).eval()


@pytest.mark.parametrize("arch", ["seq2seq", "causal"])
def test_packed_loss_equals_padded_loss(arch):
    rows = _rows(arch)
    module = TrainModule(_model(arch), arch)
    padded = PaddedCollator(arch, 0)(rows)
    packed = PackedCollator(arch, 0, pack_len=40)(rows)
    assert packed["input_ids"].shape[0] < len(rows), "packing should put several examples in a row"
    with torch.no_grad():
        a, b = module(**padded), module(**packed)
    assert torch.allclose(a, b, rtol=1e-5, atol=1e-5), (a.item(), b.item())


@pytest.mark.parametrize("arch", ["seq2seq", "causal"])
def test_packing_without_block_mask_changes_the_loss(arch):
    """The check above can fail: letting examples see each other moves the loss."""
    rows = _rows(arch)
    module = TrainModule(_model(arch), arch)
    packed = PackedCollator(arch, 0, pack_len=40)(rows)
    leaky = dict(packed)
    for key in ("attention_mask", "decoder_attention_mask", "cross_attention_mask"):
        if key in leaky:
            q, k = leaky[key].shape[-2:]
            causal = key == "decoder_attention_mask" or (arch == "causal")
            full = torch.ones(q, k, dtype=torch.bool)
            leaky[key] = (full.tril() if causal else full).expand_as(leaky[key]).clone()
    with torch.no_grad():
        assert not torch.allclose(module(**packed), module(**leaky), rtol=1e-4)


def test_balance_keeps_every_item_and_evens_out_rows():
    sizes = [(9, 2), (8, 1), (7, 1), (5, 1), (3, 3), (2, 2), (2, 1), (1, 1)]
    groups = balance(sizes, 3)
    assert sorted(i for g in groups for i in g) == list(range(len(sizes)))
    fills = [sum(sizes[i][0] for i in g) for g in groups]
    assert max(fills) - min(fills) <= max(s[0] for s in sizes)


def _nonpad(rows, batches, arch):
    num = den = 0
    for idx in batches:
        batch = PaddedCollator(arch, 0)([rows[i] for i in idx])
        num += sum(len(rows[i]["input_ids"]) for i in idx)
        den += batch["input_ids"].numel()
    return num / den


def test_bucketing_cuts_padding_and_visits_every_row_once_per_epoch():
    rows = _rows("causal", n=256, seed=1)
    keys = [sort_key("causal", r["input_ids"], r["labels"]) for r in rows]
    rand = BatchSampler(keys, 8, seed=0, mode="random")
    buck = BatchSampler(keys, 8, seed=0, mode="bucketed", pool_batches=8)
    rb, bb = [next(rand) for _ in range(32)], [next(buck) for _ in range(32)]
    assert sorted(i for b in bb for i in b) == list(range(256))
    assert _nonpad(rows, bb, "causal") > _nonpad(rows, rb, "causal") + 0.1


def test_sampler_state_resumes_the_same_batches():
    keys = [(i % 7,) for i in range(50)]
    first = BatchSampler(keys, 8, seed=3, mode="bucketed", pool_batches=2)
    for _ in range(9):  # crosses an epoch boundary (6 batches per epoch)
        next(first)
    state = first.state_dict()
    expected = [next(first) for _ in range(10)]
    again = BatchSampler(keys, 8, seed=3, mode="bucketed", pool_batches=2)
    again.load_state_dict(state)
    assert [next(again) for _ in range(10)] == expected
    assert BatchSampler(keys, 8, seed=4, mode="bucketed")._plan(0) != first._plan(0)


def test_unknown_batching_mode_names_the_key():
    with pytest.raises(ConfigError, match=r"train\.batching"):
        BatchSampler([(1,)], 1, seed=0, mode="bucket")
