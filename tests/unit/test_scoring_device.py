"""Scoring runs on the model's device; scoring.device / precision / include_eos / stop_sequences resolve."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf

from flanlab.errors import ConfigError
from flanlab.models.load import load_model
from flanlab.pipeline import tokenizer_corpus
from flanlab.scoring.scorers import (
    SCORERS,
    CausalScorer,
    make_scorer,
    resolve_include_eos,
    scoring_device,
    scoring_dtype,
)
from flanlab.training.distributed import device_for
from tests.conftest import CONF_DIR, ToyCatalogue
from tests.unit.byte_bpe import byte_level_bpe, tiny_gpt2

PAIRS = [("the red box is blue\nIs that true?", "yes"), ("the red box is blue\nIs that true?", "no box"),
         ("What colour is the green box?", "green")]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    cache, catalogue, built = tmp_path_factory.mktemp("tok"), ToyCatalogue(), {}

    def get(name: str):
        if name not in built:
            torch.manual_seed(0)
            built[name] = load_model(OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml"),
                                     corpus=lambda: tokenizer_corpus(catalogue), cache_dir=str(cache))
        return built[name]

    return get


def _assert_inputs_on(module: torch.nn.Module, device: torch.device, calls: list[int]):
    """A forward pre-hook that fails the call when any tensor argument is not on ``device``."""
    def hook(_module, args, kwargs):
        tensors = [v for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor)]
        assert all(t.device == device for t in tensors), [(t.shape, t.device) for t in tensors]
        calls.append(len(tensors))
    return module.register_forward_pre_hook(hook, with_kwargs=True)


@pytest.mark.parametrize("name", ["tiny_t5", "tiny_causal"])
def test_inputs_are_made_on_the_model_device_not_the_default_one(name, models):
    """The model sits on the CPU while torch's default device is ``meta``: every input the scorer feeds
    the model must be made on the model's device. Inputs left where tensors are made by default (the
    CPU in a real run with the model on CUDA) land on ``meta`` here and fail the hook or the forward."""
    loaded = models(name)
    scorer = SCORERS[loaded.arch](loaded.model, loaded.tokenizer, batch_size=2)
    want, want_text = scorer.loglikelihoods(PAIRS), scorer.generate(["What colour is the red box?"], 4)
    calls: list[int] = []
    handles = [_assert_inputs_on(m, scorer.device, calls) for m in (loaded.model, loaded.model.get_encoder())
               ] if loaded.arch == "seq2seq" else [_assert_inputs_on(loaded.model, scorer.device, calls)]
    try:
        with torch.device("meta"):
            got, text = scorer.loglikelihoods(PAIRS), scorer.generate(["What colour is the red box?"], 4)
    finally:
        for h in handles:
            h.remove()
    assert scorer.device.type == "cpu" and len(calls) > 2  # context pass, option pass, decoding steps
    assert got == pytest.approx(want, abs=1e-6) and text == want_text


def test_make_scorer_puts_the_model_on_scoring_device():
    tok = byte_level_bpe()
    model = tiny_gpt2(tok)
    shipped = OmegaConf.load(CONF_DIR / "scoring" / "default.yaml")  # the YAML defaults, this test's values on top
    cfg = OmegaConf.merge(shipped, {"batch_size": 4, "max_input_len": 64, "device": "meta", "precision": "auto",
                                    "include_eos": "auto", "stop_sequences": [], "progress": False})
    scorer = make_scorer(SimpleNamespace(arch="causal", model=model, tokenizer=tok), cfg)
    assert next(model.parameters()).device.type == "meta" and scorer.device.type == "meta"
    assert scorer.dtype == torch.float32 and scorer.stop_sequences == () and scorer.include_eos is False


def test_device_precision_and_eos_resolution():
    assert scoring_device("auto") == device_for("auto")  # the training device
    assert scoring_device("cpu") == torch.device("cpu")
    assert scoring_dtype(torch.device("cuda", 0), "auto") == torch.bfloat16
    assert scoring_dtype(torch.device("cpu"), "auto") == torch.float32
    assert scoring_dtype(torch.device("cpu"), "bf16") == torch.bfloat16
    assert scoring_dtype(torch.device("cuda", 0), "fp32") == torch.float32
    with pytest.raises(ConfigError, match=r"scoring\.precision"):
        scoring_dtype(torch.device("cpu"), "fp16")
    assert resolve_include_eos("auto", "causal") is False and resolve_include_eos("auto", "seq2seq") is True
    assert resolve_include_eos(True, "causal") is True and resolve_include_eos("false", "seq2seq") is False
    with pytest.raises(ConfigError, match="include_eos"):
        resolve_include_eos("maybe", "causal")
    shipped = OmegaConf.load(CONF_DIR / "scoring" / "default.yaml")
    assert shipped.include_eos == "auto" and list(shipped.stop_sequences) == ["\n"]
    assert shipped.device == "auto" and shipped.precision == "auto"


def test_bf16_autocast_scores_close_to_fp32():
    tok = byte_level_bpe()
    model = tiny_gpt2(tok)
    fp32 = CausalScorer(model, tok, batch_size=4).loglikelihoods(PAIRS)
    bf16 = CausalScorer(model, tok, batch_size=4, dtype=torch.bfloat16).loglikelihoods(PAIRS)
    assert bf16 == pytest.approx(fp32, abs=0.25) and bf16 != pytest.approx(fp32, abs=1e-6)  # autocast did run


def test_greedy_decoding_stops_at_a_stop_sequence_and_cuts_there():
    tok = byte_level_bpe()
    model = tiny_gpt2(tok)
    prompt, n = "Read the passage: the cat is under the table. Where is the cat?", 12
    free = CausalScorer(model, tok, stop_sequences=())
    calls: list[int] = []
    handle = model.register_forward_pre_hook(lambda *_: calls.append(1))
    raw = free._generate_batch([prompt], n)[0]
    free_calls = len(calls)
    # A stop string that first occurs after the second generated token: the decoded 3rd token.
    ids = tok(raw, add_special_tokens=False).input_ids
    cuts = [(len(tok.decode(ids[:k])), tok.decode(ids[k : k + 1])) for k in range(2, len(ids) - 2)]
    stop = next(s for at, s in cuts if s.strip() and raw.find(s) == at)
    calls.clear()
    stopped = CausalScorer(model, tok, stop_sequences=(stop,))._generate_batch([prompt], n)[0]
    handle.remove()
    assert stopped == raw[: raw.find(stop)] and stopped != raw
    assert len(calls) < free_calls  # generation itself stopped early, not only the text was cut


def test_scoring_input_limit_is_the_training_one():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["train.max_input_len=77"])
    assert cfg.scoring.max_input_len == 77
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["train.max_input_len=77", "scoring.max_input_len=300"])
    assert cfg.scoring.max_input_len == 300  # still settable on its own
