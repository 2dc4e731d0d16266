"""Decoder-only contexts start with BOS exactly when the tokenizer itself adds one (Gemma/Llama style)."""

from __future__ import annotations

from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from flanlab.data.collate import bos_prefix, causal_contexts, encode_pairs
from flanlab.models.tokenizer import train_bpe


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
