"""Decoder-only contexts start with BOS exactly when the tokenizer itself adds one (Gemma/Llama style)."""

from __future__ import annotations

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from flanlab.data.collate import encode_pairs
from flanlab.data.token_layout import bos_prefix, causal_contexts
from flanlab.models.tokenizer import train_bpe
from flanlab.scoring.scorers import CausalScorer


def _bos_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "hello": 4, "world": 5}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")


def test_bos_is_prepended_only_for_tokenizers_that_add_it():
    with_bos = _bos_tokenizer()
    assert bos_prefix(with_bos) == [1]
    assert causal_contexts(with_bos, ["hello world"]) == [[1, 4, 5]]
    assert causal_contexts(with_bos, ["hello world hello"], max_len=2) == [[1, 4]]  # BOS survives truncation
    project = train_bpe(["hello world"] * 20, 60)
    assert bos_prefix(project) == []
    assert causal_contexts(project, ["hello world"]) == [project("hello world", add_special_tokens=False).input_ids]


def test_training_pairs_carry_the_bos_too():
    out = encode_pairs(_bos_tokenizer(), "causal", ["hello"], ["world"], max_input_len=8, max_target_len=4)
    assert out["input_ids"] == [[1, 4, 5, 2]] and out["labels"] == [[-100, -100, 5, 2]]


def _logprob(model, ctx: list[int], cont: list[int]) -> float:
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ctx + cont])).logits[0, len(ctx) - 1 : -1]
    return torch.log_softmax(logits, -1).gather(-1, torch.tensor(cont)[:, None]).sum().item()


@pytest.mark.parametrize(("max_input_len", "positions"), [(3, 64), (512, 4)])
def test_scoring_keeps_the_bos_when_a_long_context_is_cut(max_input_len, positions):
    """Cut by scoring.max_input_len, or to fit the model's positions beside the option: BOS stays first."""
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=6, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2,
                                         max_position_embeddings=positions, bos_token_id=1, eos_token_id=2,
                                         pad_token_id=0)).eval()
    scorer = CausalScorer(model, _bos_tokenizer(), max_input_len=max_input_len)
    got = scorer.loglikelihoods([("hello world hello world hello", "world")])  # context ids 1, 4, 5, 4, 5, 4
    assert got[0] == pytest.approx(_logprob(model, [1, 5, 4], [5]), abs=1e-5)  # BOS, then the last two tokens
    assert got[0] != pytest.approx(_logprob(model, [4, 5, 4], [5]), abs=1e-4)  # (the BOS changes the score)
