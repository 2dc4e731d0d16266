"""With its *defaults*, flanlab's causal scoring equals lm-evaluation-harness's, on a byte-level BPE.

The tokenizer is a ByteLevel BPE (GPT-2 style) trained here, in which " yes" and "yes" are different
tokens, so a misplaced boundary space would change every score. lm-eval builds the requests itself
(a ``ConfigurableTask`` over an in-memory dataset, ``target_delimiter=" "``), scores them with
``HFLM.loglikelihood``, and decides ``acc`` / ``acc_norm`` with its own ``process_results``.
flanlab's scorer comes from ``make_scorer`` with ``conf/scoring/default.yaml`` as shipped.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import datasets
import pytest
from omegaconf import OmegaConf

from flanlab.metrics.functions import rank_options
from flanlab.scoring.scorers import CausalScorer, make_scorer
from tests.conftest import CONF_DIR
from tests.unit.byte_bpe import byte_level_bpe, tiny_gpt2

lm_eval_hf = pytest.importorskip("lm_eval.models.huggingface", reason="lm-eval is not installed (pip install lm-eval)")
lm_eval_task = pytest.importorskip("lm_eval.api.task", reason="lm-eval is not installed (pip install lm-eval)")

DOCS = [
    {"question": "the red box is on the table. Is it true? Answer yes or no.", "choices": ["yes", "no"]},
    {"question": "What colour is the café?", "choices": ["red", "naïve blue", "über green box", "no"]},
    {"question": "Read the passage: the cat is under the table.\nWhere is the cat?",
     "choices": ["under the table", "on the box", "it is on the red table", "café"]},
    {"question": "Is the dog blue?", "choices": ["yes", "no", "maybe"]},
    {"question": "Which one is green?", "choices": ["the dog", "the green box", "a cat", "über"]},
    {"question": "true or false: the box is red", "choices": ["true", "false"]},
]


@pytest.fixture(scope="module")
def setup():
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    tok = byte_level_bpe()
    return tok, tiny_gpt2(tok)


def _default_scorer(tok, model) -> CausalScorer:
    cfg = OmegaConf.create({"scoring": OmegaConf.load(CONF_DIR / "scoring" / "default.yaml"),
                            "train": OmegaConf.load(CONF_DIR / "train" / "default.yaml")})
    scorer = make_scorer(SimpleNamespace(arch="causal", model=model, tokenizer=tok), cfg.scoring)
    assert isinstance(scorer, CausalScorer) and scorer.include_eos is False  # include_eos: auto -> false
    return scorer


def _lm_eval_task(docs: list[dict]):
    metrics = [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in ("acc", "acc_norm")]
    return lm_eval_task.ConfigurableTask(config={
        "task": "flanlab_parity", "output_type": "multiple_choice", "test_split": "test",
        "custom_dataset": lambda **_: datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)}),
        "doc_to_text": "{{question}}", "doc_to_choice": "{{choices}}", "doc_to_target": "{{label}}",
        "target_delimiter": " ", "metric_list": metrics})


def _lm_eval_pick(task, doc: dict, lls: list[float], metric: str) -> int:
    """The option lm-eval's own ``process_results`` picks: the gold label under which ``metric`` is 1."""
    hits = [g for g in range(len(lls)) if task.process_results({**doc, "label": g}, [(v, False) for v in lls])[metric]]
    assert len(hits) == 1
    return hits[0]


def test_tokenizer_tells_leading_space_apart(setup):
    tok, _ = setup
    spaced, bare = tok(" yes", add_special_tokens=False).input_ids, tok("yes", add_special_tokens=False).input_ids
    assert len(spaced) == 1 and len(bare) == 1 and spaced != bare
    assert tok("a", add_special_tokens=True).input_ids == tok("a", add_special_tokens=False).input_ids  # no BOS


def test_default_causal_scores_and_choices_equal_lm_eval(setup):
    tok, model = setup
    docs = [{**d, "label": 0} for d in DOCS]
    task = _lm_eval_task(docs)
    requests = [r for d in task.test_docs() for r in task.construct_requests(d, task.doc_to_text(d))]
    assert requests[0].arguments[1] == " yes"  # lm-eval puts the delimiter on the continuation
    lm = lm_eval_hf.HFLM(pretrained=model, tokenizer=tok, backend="causal", batch_size=4)
    theirs = [lp for lp, _ in lm.loglikelihood(requests, disable_tqdm=True)]

    pairs = [(d["question"], c) for d in docs for c in d["choices"]]
    ours = _default_scorer(tok, model).loglikelihoods(pairs)
    assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) <= 1e-4
    assert len({round(v, 3) for v in ours}) > len(ours) // 2  # distinct scores: the comparison can fail

    start, differ = 0, 0
    for doc in docs:
        n = len(doc["choices"])
        lls, start = theirs[start : start + n], start + n
        mine = ours[start - n : start]
        by_sum, by_norm = rank_options(mine, doc["choices"]), rank_options(mine, doc["choices"], length_normalize=True)
        assert by_sum == _lm_eval_pick(task, doc, lls, "acc")
        assert by_norm == _lm_eval_pick(task, doc, lls, "acc_norm")
        differ += by_sum != by_norm
    assert differ, "acc and acc_norm agree on every doc: the acc_norm comparison could not fail"


def test_rank_options_units_follow_lm_eval():
    """acc_norm divides by characters of the bare choice, acc_bytes by its UTF-8 bytes (lm-eval 0.4.13)."""
    options, scores = ["ééé", "abcd"], [-3.3, -4.0]  # 3 chars / 6 bytes vs 4 chars / 4 bytes
    assert rank_options(scores, options) == 0
    assert rank_options(scores, options, length_normalize=True) == 1  # -1.10 vs -1.00 per character
    assert rank_options(scores, options, length_normalize=True, unit="bytes") == 0  # -0.55 vs -1.00 per byte
    with pytest.raises(ValueError, match="unit"):
        rank_options(scores, options, length_normalize=True, unit="tokens")
