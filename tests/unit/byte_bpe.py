"""A GPT-2-style byte-level BPE, in which " yes" and "yes" are different tokens, and a tiny GPT-2 for it."""

from __future__ import annotations

import random

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

TEXT = ("yes no maybe the a red blue green box table cat dog is under on it true false question answer "
        "passage read which colour where what café naïve über")
END = "<|endoftext|>"


def byte_level_bpe(seed: int = 0, vocab_size: int = 400) -> PreTrainedTokenizerFast:
    """Trained on a few hundred random sentences of TEXT's words; no BOS is added; pad = BOS = EOS."""
    rng, words = random.Random(seed), TEXT.split(" ")
    lines = [" ".join(rng.choice(words) for _ in range(12)) + rng.choice("?.\n") for _ in range(400)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[END], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines + ["yes", "no"] * 20, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=END, bos_token=END, pad_token=END)


def tiny_gpt2(tok: PreTrainedTokenizerFast, seed: int = 0) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=256, n_embd=64, n_layer=2, n_head=4,
                     bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    return GPT2LMHeadModel(cfg).eval()
