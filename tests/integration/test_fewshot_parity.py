"""k-shot parity with lm-evaluation-harness (issue 27): lm-eval's own few-shot machinery (a ``ConfigurableTask``
with ``num_fewshot``, its ``first_n`` sampler over the same examples, ``fewshot_delimiter`` "\\n\\n" and
``target_delimiter`` " ") builds exactly flanlab's k-shot prompt, and its log-likelihoods on those requests equal
flanlab's within 1e-4, for a seq2seq and a decoder-only model.

Each scored row has its own examples in flanlab (seeded per row), so each row gets a one-document lm-eval task
whose few-shot split holds that row's examples in order. The query's own target delimiter is " " for decoder-only
models (flanlab's scorer prepends it to the option) and "" for seq2seq (the option is the decoder's target); the
examples always read ``Answer: <answer>``.
"""

from __future__ import annotations

import json

import pytest
import torch
from omegaconf import OmegaConf

from flanlab.audit import row_text
from flanlab.models.load import load_model
from flanlab.pipeline import tokenizer_corpus
from flanlab.scoring.fewshot import FewShot, example_rows
from flanlab.scoring.scorers import SCORERS
from flanlab.scoring.zeroshot import eval_rows, render_rows
from flanlab.templates.fewshot import ANSWER_CUE, pick_examples
from flanlab.templates.variants import render
from tests.conftest import CONF_DIR, ToyCatalogue

pytestmark = pytest.mark.slow
lm_eval_hf = pytest.importorskip("lm_eval.models.huggingface", reason="lm-eval is not installed (pip install lm-eval)")
lm_eval_task = pytest.importorskip("lm_eval.api.task", reason="lm-eval is not installed (pip install lm-eval)")
K, SEED, TASK = 3, 1234, "toy_nli"


def _doc(prompt) -> dict:
    return {"q": f"{prompt.input}\n{ANSWER_CUE}", "choices": list(prompt.options), "gold": int(prompt.label)}


def _lm_eval_task(tmp_path, n: int, query: dict, examples: list[dict], query_delimiter: str):
    folder = tmp_path / f"row{n}"
    folder.mkdir()
    for split, docs in (("train", examples), ("test", [query])):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    return lm_eval_task.ConfigurableTask(config={
        "task": f"flanlab_toy_row{n}", "dataset_path": "json",
        "dataset_kwargs": {"data_files": {s: str(folder / f"{s}.jsonl") for s in ("train", "test")}},
        "test_split": "test", "fewshot_split": "train", "output_type": "multiple_choice",
        "doc_to_text": "{{q}}", "doc_to_choice": "{{choices}}", "doc_to_target": "{{gold}}",
        "target_delimiter": query_delimiter, "fewshot_delimiter": "\n\n", "num_fewshot": K,
        "fewshot_config": {"sampler": "first_n", "target_delimiter": " "}, "metric_list": [{"metric": "acc"}],
    })


@pytest.mark.parametrize(("model_name", "backend"), [("tiny_t5", "seq2seq"), ("tiny_causal", "causal")])
def test_k_shot_prompts_and_loglikelihoods_match_lm_eval_num_fewshot(model_name, backend, tmp_path):
    torch.manual_seed(0)
    catalogue = ToyCatalogue()
    spec = catalogue.spec(TASK)
    rows = eval_rows(catalogue, [TASK], 4)[TASK]
    ours = [p for p in render_rows(catalogue, TASK, rows, "instruction", fewshot=FewShot(K, SEED))
            if p.template_id == "t0"]
    pool, texts = example_rows(catalogue, TASK)
    template = spec.templates[0]
    loaded = load_model(OmegaConf.load(CONF_DIR / "model" / f"{model_name}.yaml"),
                        corpus=lambda: tokenizer_corpus(catalogue), cache_dir=str(tmp_path / "cache"))
    lm = lm_eval_hf.HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, backend=backend, batch_size=3,
                         add_bos_token=False if backend == "causal" else None)
    scorer = SCORERS[loaded.arch](loaded.model, loaded.tokenizer, batch_size=3,
                                  include_eos=False if backend == "seq2seq" else None)
    theirs_ll, ours_ll = [], []
    for n, prompt in enumerate(ours):
        asked = row_text(spec, rows[prompt.row_index])
        chosen = pick_examples(len(pool), K, SEED, f"{TASK}/{prompt.row_index}",
                               usable=lambda i, asked=asked: texts[i] != asked)
        examples = [_doc(render(spec, pool[i], "instruction", template, row_index=i)) for i in chosen]
        query = _doc(render(spec, rows[prompt.row_index], "instruction", template, row_index=prompt.row_index))
        task = _lm_eval_task(tmp_path, n, query, examples, " " if backend == "causal" else "")
        doc = task.test_docs()[0]
        context = task.fewshot_context(doc, K)
        assert context == prompt.input  # lm-eval's num_fewshot builds flanlab's k-shot prompt, character for character
        requests = task.construct_requests(doc, context, metadata=(task.config.task, 0, 1))
        theirs_ll += [ll for ll, _ in lm.loglikelihood(requests, disable_tqdm=True)]
        ours_ll += scorer.loglikelihoods([(prompt.input, option) for option in prompt.options])
    assert len(ours_ll) == 2 * len(ours) >= 4 and all(p.shots == K for p in ours)
    assert max(abs(a - b) for a, b in zip(ours_ll, theirs_ll, strict=True)) < 1e-4
    assert len({round(v, 3) for v in ours_ll}) > 2  # distinct scores: the comparison can fail
