"""Rank classification agrees with a naive per-option loss computation, for both architectures."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from flanlab.models.load import load_model
from flanlab.pipeline import tokenizer_corpus
from flanlab.scoring.scorers import CausalScorer, Seq2SeqScorer

PAIRS = [
    ("the red box is blue\nIs that true? Answer yes or no.", "yes"),
    ("the red box is blue\nIs that true? Answer yes or no.", "no"),
    ("What colour is the green box?", "green"),
    ("What colour is the green box?", "blue box"),
    ("Read: the blue box is red", "yes"),
]


def _model(name: str, toy_catalogue, tmp_path):
    cfg = OmegaConf.load(f"conf/model/{name}.yaml")
    torch.manual_seed(0)
    loaded = load_model(cfg, corpus=lambda: tokenizer_corpus(toy_catalogue), cache_dir=str(tmp_path))
    loaded.model.eval()
    return loaded


def _naive_seq2seq(loaded, ctx: str, cont: str) -> float:
    tok = loaded.tokenizer
    enc = tok(ctx, return_tensors="pt")
    labels = tok(cont, return_tensors="pt").input_ids
    with torch.no_grad():
        loss = loaded.model(**enc, labels=labels).loss  # mean over target tokens
    return -loss.item() * labels.shape[1]


def _naive_causal(loaded, ctx: str, cont: str) -> float:
    tok = loaded.tokenizer
    c = tok(ctx, add_special_tokens=False).input_ids
    t = tok(" " + cont, add_special_tokens=False).input_ids + [tok.eos_token_id]
    ids = torch.tensor([c + t])
    labels = torch.tensor([[-100] * len(c) + t])
    with torch.no_grad():
        loss = loaded.model(input_ids=ids, labels=labels).loss
    return -loss.item() * len(t)


@pytest.mark.parametrize(("name", "scorer_cls", "naive"), [
    ("tiny_t5", Seq2SeqScorer, _naive_seq2seq),
    ("tiny_causal", CausalScorer, _naive_causal),
])
def test_batched_loglik_equals_naive(name, scorer_cls, naive, toy_catalogue, tmp_path):
    loaded = _model(name, toy_catalogue, tmp_path)
    scorer = scorer_cls(loaded.model, loaded.tokenizer, batch_size=2)
    batched = scorer.loglikelihoods(PAIRS)
    expected = [naive(loaded, c, t) for c, t in PAIRS]
    assert batched == pytest.approx(expected, abs=1e-4)
    # Different options of one context must get different scores (the test can fail).
    assert batched[0] != pytest.approx(batched[1], abs=1e-6)


def test_generate_returns_one_string_per_input(toy_catalogue, tmp_path):
    loaded = _model("tiny_t5", toy_catalogue, tmp_path)
    out = Seq2SeqScorer(loaded.model, loaded.tokenizer, batch_size=2).generate(["What colour is the red box?"] * 3, 4)
    assert len(out) == 3 and all(isinstance(o, str) for o in out)
