"""Rank classification agrees with a naive per-option loss computation, for both architectures."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from flanlab.models.load import load_model
from flanlab.pipeline import tokenizer_corpus
from flanlab.scoring.batching import RequestBatcher
from flanlab.scoring.scorers import CausalScorer, Seq2SeqScorer
from tests.conftest import CONF_DIR, ToyCatalogue

PAIRS = [
    ("the red box is blue\nIs that true? Answer yes or no.", "yes"),
    ("the red box is blue\nIs that true? Answer yes or no.", "no"),
    ("What colour is the green box?", "green"),
    ("What colour is the green box?", "blue box"),
    ("Read: the blue box is red", "yes"),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Both tiny models, built once per module (the tokenizer is trained once and cached)."""
    cache, catalogue, built = tmp_path_factory.mktemp("tok"), ToyCatalogue(), {}

    def get(name: str):
        if name not in built:
            torch.manual_seed(0)
            cfg = OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml")
            built[name] = load_model(cfg, corpus=lambda: tokenizer_corpus(catalogue), cache_dir=str(cache))
            built[name].model.eval()
        return built[name]

    return get


def _model(name: str, models):
    return models(name)


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
    t = [*tok(" " + cont, add_special_tokens=False).input_ids, tok.eos_token_id]
    ids = torch.tensor([c + t])
    labels = torch.tensor([[-100] * len(c) + t])
    with torch.no_grad():
        loss = loaded.model(input_ids=ids, labels=labels).loss
    return -loss.item() * len(t)


@pytest.mark.parametrize(("name", "scorer_cls", "naive"), [
    ("tiny_t5", Seq2SeqScorer, _naive_seq2seq),
    ("tiny_causal", CausalScorer, _naive_causal),
])
def test_batched_loglik_equals_naive(name, scorer_cls, naive, models):
    loaded = _model(name, models)
    scorer = scorer_cls(loaded.model, loaded.tokenizer, batch_size=2, include_eos=True)  # the naive sums score EOS
    batched = scorer.loglikelihoods(PAIRS)
    expected = [naive(loaded, c, t) for c, t in PAIRS]
    assert batched == pytest.approx(expected, abs=1e-4)
    # Different options of one context must get different scores (the test can fail).
    assert batched[0] != pytest.approx(batched[1], abs=1e-6)


def test_generate_returns_one_string_per_input(models):
    loaded = _model("tiny_t5", models)
    out = Seq2SeqScorer(loaded.model, loaded.tokenizer, batch_size=2).generate(["What colour is the red box?"] * 3, 4)
    assert len(out) == 3 and all(isinstance(o, str) for o in out)


LONG = " ".join(f"the box number {i} is red" for i in range(12))
MORE_PAIRS = [
    *PAIRS,
    (LONG, "yes"), (LONG, "no"), (LONG, "blue box is red"), (LONG, "maybe"),
    ("Is it?", "no"),
]


def _naive_causal_truncated(loaded, ctx: str, cont: str, max_len: int, eos: bool) -> float:
    """Every option of a context sees the same context: its last ``max_len`` tokens (the training limit)."""
    tok = loaded.tokenizer
    t = tok(" " + cont, add_special_tokens=False).input_ids + ([tok.eos_token_id] if eos else [])
    c = tok(ctx, add_special_tokens=False).input_ids[-max_len:]
    with torch.no_grad():
        logits = loaded.model(input_ids=torch.tensor([c + t])).logits[0, len(c) - 1 : -1]
    return torch.log_softmax(logits, -1).gather(-1, torch.tensor(t)[:, None]).sum().item()


@pytest.mark.parametrize("include_eos", [True, False])
def test_causal_prefix_sharing_equals_naive(include_eos, models):
    """KV-cache reuse of the context, single-token options (no option pass) and left truncation."""
    loaded = _model("tiny_causal", models)
    tok = loaded.tokenizer
    single = [c for _, c in MORE_PAIRS if len(tok(" " + c, add_special_tokens=False).input_ids) == 1]
    assert single, "the test needs single-token continuations"
    assert len(tok(LONG, add_special_tokens=False).input_ids) > 24, "the 24-token limit must cut LONG"
    for max_len in (256, 24):
        scorer = CausalScorer(loaded.model, tok, batch_size=3, include_eos=include_eos, max_input_len=max_len)
        got = scorer.loglikelihoods(MORE_PAIRS)
        want = [_naive_causal_truncated(loaded, c, t, max_len, include_eos) for c, t in MORE_PAIRS]
        assert got == pytest.approx(want, abs=1e-4)


def test_collator_groups_longest_first_and_restores_order():
    contexts = ["a", "bbb", "a", "cc", "bbb", "a"]
    lengths = [1, 3, 2, 2, 5, 1]
    batcher = RequestBatcher(contexts, lengths)
    assert [g.context for g in batcher.groups] == ["bbb", "a", "cc"]
    assert batcher.groups[1].indices == (0, 2, 5)
    batches = [b for _, b in batcher.batches(3)]
    assert [[g.context for g in b] for b in batches] == [["bbb"], ["a"], ["cc"]]
    assert [[g.context for g in b] for _, b in batcher.batches(5)] == [["bbb", "a"], ["cc"]]
    seen = []

    def fn(groups):
        seen.append(len(groups))
        return {i: f"{g.context}{i}" for g in groups for i in g.indices}

    out = batcher.run(fn, 5)
    assert out == [f"{c}{i}" for i, c in enumerate(contexts)]
    assert seen == [2, 1]


@pytest.mark.parametrize(("name", "scorer_cls"), [("tiny_t5", Seq2SeqScorer), ("tiny_causal", CausalScorer)])
def test_out_of_memory_halves_batch_size_and_retries(name, scorer_cls, models, monkeypatch):
    loaded = _model(name, models)
    expected = scorer_cls(loaded.model, loaded.tokenizer, batch_size=4).loglikelihoods(MORE_PAIRS)
    real_forward, calls = loaded.model.forward, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise torch.OutOfMemoryError("simulated")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(loaded.model, "forward", flaky)
    scorer = scorer_cls(loaded.model, loaded.tokenizer, batch_size=4)
    assert scorer.loglikelihoods(MORE_PAIRS) == pytest.approx(expected, abs=1e-5)
    assert scorer.batch_size == 2 and len(calls) > 1


def test_out_of_memory_at_batch_size_one_is_raised():
    batcher = RequestBatcher(["a", "b"], [1, 1])

    def always(_groups):
        raise torch.OutOfMemoryError("simulated")

    with pytest.raises(torch.OutOfMemoryError):
        batcher.run(always, 2)
    assert batcher.batch_size == 1
