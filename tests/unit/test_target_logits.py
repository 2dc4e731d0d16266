"""Target-only logits for causal LMs: same summed loss and gradients as HF's all-position loss."""

from __future__ import annotations

import random

import datasets
import pytest
import torch
from omegaconf import OmegaConf
from transformers import Gemma3ForCausalLM, Gemma3TextConfig, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from flanlab.data.collate import PaddedCollator
from flanlab.data.packing import PackedCollator
from flanlab.data.token_layout import IGNORE
from flanlab.models.load import LoadedModel
from flanlab.models.peft import apply_peft
from flanlab.tracking.run import NullTracker
from flanlab.training import loop
from flanlab.training import model as train_model
from flanlab.training.model import TrainModule, backbone, output_logits
from tests.conftest import CONF_DIR


def _rows(n: int = 10, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        ctx = [rng.randrange(3, 60) for _ in range(rng.randrange(2, 18))]
        tgt = [rng.randrange(3, 60) for _ in range(rng.randrange(1, 6))] + [1]
        rows.append({"input_ids": ctx + tgt, "labels": [IGNORE] * len(ctx) + tgt})
    return rows


def _llama(tied: bool = True) -> LlamaForCausalLM:
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, pad_token_id=0, eos_token_id=1, bos_token_id=1, tie_word_embeddings=tied))


def _gpt2() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=64, n_positions=128, n_embd=32, n_layer=2, n_head=4,
                                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                      bos_token_id=1, eos_token_id=1, pad_token_id=0))


def _gemma3() -> Gemma3ForCausalLM:
    """Gemma-3 architecture from config (random weights), with its final logit soft-capping switched on."""
    torch.manual_seed(0)
    return Gemma3ForCausalLM(Gemma3TextConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, sliding_window=8, final_logit_softcapping=2.0,
        pad_token_id=0, eos_token_id=1, bos_token_id=1))


MODELS = {"llama_tied": lambda: _llama(True), "llama_untied": lambda: _llama(False), "gpt2": _gpt2,
          "gemma3_softcapped": _gemma3}
BATCHES = {"padded": lambda rows: PaddedCollator("causal", 0)(rows),
           "packed": lambda rows: PackedCollator("causal", 0, pack_len=40)(rows)}


def _loss_and_grads(model: torch.nn.Module, batch: dict, target_only: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    module = TrainModule(model, "causal", target_only_logits=target_only)
    loss = module(**{k: v.clone() for k, v in batch.items()})
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters() if p.requires_grad]
    return loss.detach(), grads


def _assert_same(model: torch.nn.Module, batch: dict) -> None:
    full, full_grads = _loss_and_grads(model, batch, target_only=False)
    fast, fast_grads = _loss_and_grads(model, batch, target_only=True)
    assert torch.allclose(full, fast, rtol=1e-5, atol=1e-5), (full.item(), fast.item())
    assert len(full_grads) == len(fast_grads) > 0
    for a, b in zip(full_grads, fast_grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5), (a - b).abs().max().item()


@pytest.mark.parametrize("batching", list(BATCHES))
@pytest.mark.parametrize("name", list(MODELS))
def test_target_only_loss_and_gradients_equal_the_all_position_loss(name, batching):
    model = MODELS[name]().train()
    _assert_same(model, BATCHES[batching](_rows()))


@pytest.mark.parametrize("batching", list(BATCHES))
def test_target_only_path_matches_with_lora_adapters(batching):
    loaded = apply_peft(LoadedModel(_llama(), None, "causal", "tiny"), {"method": "lora", "dropout": 0.0})
    torch.manual_seed(1)
    for name, p in loaded.model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.1)  # peft starts B at zero: make the adapters matter
    assert backbone(loaded.model) is not None
    _assert_same(loaded.model.train(), BATCHES[batching](_rows()))


def test_the_head_runs_only_at_target_positions(monkeypatch):
    """Not just equal: the output layer sees exactly the positions whose next label is a target."""
    seen = []
    real = train_model.output_logits
    monkeypatch.setattr(train_model, "output_logits", lambda m, h: seen.append(h.shape[0]) or real(m, h))
    batch = PaddedCollator("causal", 0)(_rows())
    TrainModule(_llama(), "causal", target_only_logits=True)(**batch)
    assert seen == [int((batch["labels"][:, 1:] != IGNORE).sum())]
    assert seen[0] < batch["input_ids"].numel() // 2


def test_final_logit_softcapping_is_applied_when_the_config_sets_it():
    model = _llama()
    hidden = torch.randn(5, 32) * 50
    plain = model.lm_head(hidden)
    model.config.final_logit_softcapping = 3.0
    capped = output_logits(model, hidden)
    assert torch.allclose(capped, torch.tanh(plain / 3.0) * 3.0)
    assert capped.abs().max() <= 3.0


@pytest.mark.parametrize("switch", [True, False])
def test_fit_follows_train_target_only_logits(monkeypatch, switch):
    calls = []
    real = train_model.output_logits
    monkeypatch.setattr(train_model, "output_logits", lambda m, h: calls.append(h.shape[0]) or real(m, h))
    monkeypatch.setattr(loop, "peak_flops", lambda *a, **k: (1e9, "test"))
    rows = _rows(16)
    data = datasets.Dataset.from_dict({"input_ids": [r["input_ids"] for r in rows],
                                       "labels": [r["labels"] for r in rows]})
    cfg = OmegaConf.merge(OmegaConf.load(CONF_DIR / "train" / "default.yaml"),
                          {"steps": 2, "batch_size": 8, "warmup_steps": 1, "log_every": 1, "progress": False,
                           "device": "cpu", "target_only_logits": switch})
    assert OmegaConf.load(CONF_DIR / "train" / "default.yaml").target_only_logits is True
    loop.fit(LoadedModel(_llama(), type("Tok", (), {"pad_token_id": 0})(), "causal", "tiny"), data, cfg,
             NullTracker(), seed=0)
    assert (len(calls) == 2) is switch
