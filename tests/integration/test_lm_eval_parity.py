"""flanlab's log-likelihoods equal lm-evaluation-harness's HF model ``loglikelihood`` (within 1e-4).

Same tiny models (built from config), same (context, continuation) pairs. Whitespace rule: flanlab
takes continuations without a leading space and, for decoder-only models, prepends the delimiter
(" ") to the continuation; lm-eval is given the continuation with that space already on it.
EOS: lm-eval scores no end-of-sequence token after a continuation (it encodes seq2seq continuations
without special tokens, and decoder-only text without them when ``add_bos_token=False``; seq2seq
contexts keep T5's ``</s>``, as flanlab's encoder input does). flanlab's causal default
(``include_eos: auto`` -> false) already matches; seq2seq defaults to scoring EOS, so that side
passes ``include_eos=False``. Seq2seq continuations get no leading space on either side. The causal
default on a byte-level BPE, with lm-eval's own request building and acc rules, is
``tests/unit/test_causal_parity.py``.
"""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from flanlab.models.load import load_model
from flanlab.pipeline import tokenizer_corpus
from flanlab.scoring.scorers import SCORERS
from tests.conftest import CONF_DIR, ToyCatalogue

pytestmark = pytest.mark.slow
lm_eval_hf = pytest.importorskip("lm_eval.models.huggingface", reason="lm-eval is not installed (pip install lm-eval)")
lm_eval_api = pytest.importorskip("lm_eval.api.instance", reason="lm-eval is not installed (pip install lm-eval)")

LONG = " ".join(f"the green box number {i} is under the red table" for i in range(8))
PAIRS = [
    ("the red box is blue\nIs that true? Answer yes or no.\nOPTIONS:\n- yes\n- no", "yes"),
    ("the red box is blue\nIs that true? Answer yes or no.\nOPTIONS:\n- yes\n- no", "no"),
    ("What colour is the green box?", "green"),
    ("What colour is the green box?", "the blue box is red"),
    (LONG, "yes"), (LONG, "red table"),
    ("Read: the blue box is red", "maybe"),
]


@pytest.mark.parametrize(("model_name", "backend"), [("tiny_t5", "seq2seq"), ("tiny_causal", "causal")])
def test_loglikelihoods_match_lm_eval(model_name, backend, tmp_path):
    torch.manual_seed(0)
    catalogue = ToyCatalogue()
    loaded = load_model(OmegaConf.load(CONF_DIR / "model" / f"{model_name}.yaml"),
                        corpus=lambda: tokenizer_corpus(catalogue), cache_dir=str(tmp_path))
    eos = False if backend == "seq2seq" else None  # None: the scorer's default (causal: no EOS)
    ours = SCORERS[loaded.arch](loaded.model, loaded.tokenizer, batch_size=3, include_eos=eos)
    got = ours.loglikelihoods(PAIRS)

    lm = lm_eval_hf.HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, backend=backend, batch_size=3,
                         add_bos_token=False if backend == "causal" else None)
    space = " " if backend == "causal" else ""
    requests = [lm_eval_api.Instance(request_type="loglikelihood", doc={}, arguments=(c, space + t), idx=i)
                for i, (c, t) in enumerate(PAIRS)]
    theirs = [logprob for logprob, _ in lm.loglikelihood(requests, disable_tqdm=True)]
    assert got == pytest.approx(theirs, abs=1e-4)
    assert max(abs(a - b) for a, b in zip(got, theirs, strict=True)) < 1e-4
    assert len(set(round(v, 3) for v in got)) > 3  # distinct scores: the comparison can fail
