"""flanlab's scorers vs lm-evaluation-harness's HF model on the same tiny models and requests.

Cases (tiny T5 and tiny causal, built from config; tokenizer trained on the generated suite):
* ``4opt``: ``--contexts`` contexts of ``--ctx-tokens`` tokens, 4 multi-token options each;
* ``1tok``: the same contexts with 4 single-token options each;
* ``bytebpe``: the tiny causal architecture with a GPT-2-style byte-level BPE trained on the suite
  (where " yes" and "yes" are different tokens), 4 options, scored by ``make_scorer`` with the
  shipped ``conf/scoring/default.yaml`` (``include_eos: auto`` = no EOS for causal, delimiter " "),
  only the batch size, device (cpu) and input limit (``--ctx-tokens`` + 64, so nothing is cut) set.
Both sides get the same requests, the same batch size (sequences per forward pass) and one CPU
thread; the best of ``--repeats`` timings counts. lm-eval scores no EOS: causal scorers use their
default (no EOS), the seq2seq one ``include_eos=False``, so ``max_abs_loglik_diff`` compares like with like.

Run: python experiments/bench/scoring.py            (last line: JSON)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from types import SimpleNamespace

import torch
from lm_eval.api.instance import Instance
from lm_eval.models.huggingface import HFLM
from omegaconf import OmegaConf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from flanlab.models.load import load_model
from flanlab.pipeline import tokenizer_corpus
from flanlab.scoring.scorers import SCORERS, make_scorer
from flanlab.tasks.suite.catalogue import SuiteCatalogue

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPTIONS_4 = ["the red box", "yes it is", "under the blue table", "no"]


def _contexts(tokenizer, corpus: list[str], n: int, length: int) -> list[str]:
    """``n`` distinct contexts of about ``length`` tokens, made by joining suite prompts."""
    out, i = [], 0
    while len(out) < n:
        parts: list[str] = []
        while len(tokenizer(" ".join(parts), add_special_tokens=False).input_ids) < length:
            parts.append(corpus[i % len(corpus)].replace("\n", " "))
            i += 1
        ids = tokenizer(" ".join(parts), add_special_tokens=False).input_ids[:length]
        out.append(tokenizer.decode(ids).strip())
    return out


def _single_token_options(tokenizer, corpus: list[str], k: int = 4) -> list[str]:
    words = [w for text in corpus[:200] for w in text.split() if w.isalpha()]
    single = [w for w in dict.fromkeys(words) if len(tokenizer(" " + w, add_special_tokens=False).input_ids) == 1
              and len(tokenizer(w, add_special_tokens=False).input_ids) == 1]
    if len(single) < k:
        raise SystemExit(f"only {len(single)} single-token words found")
    return single[:k]


def _byte_level_model(corpus: list[str]) -> SimpleNamespace:
    """tiny_causal's architecture with a GPT-2-style byte-level BPE trained on ``corpus``."""
    end = "<|endoftext|>"
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=2000, special_tokens=[end], show_progress=False,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=end, bos_token=end, pad_token=end)
    if tok(" yes", add_special_tokens=False).input_ids == tok("yes", add_special_tokens=False).input_ids:
        raise SystemExit("the byte-level BPE does not tell ' yes' from 'yes'")
    arch = OmegaConf.to_container(OmegaConf.load(os.path.join(ROOT, "conf", "model", "tiny_causal.yaml")).config)
    arch.pop("_target_")
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**arch, vocab_size=len(tok), bos_token_id=tok.eos_token_id,
                                         eos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id))
    return SimpleNamespace(arch="causal", model=model, tokenizer=tok)


def _default_scorer(loaded: SimpleNamespace, batch_size: int, max_input_len: int):
    """``make_scorer`` with the shipped scoring config; only batch size, device and input limit set."""
    cfg = OmegaConf.load(os.path.join(ROOT, "conf", "scoring", "default.yaml"))
    cfg.batch_size, cfg.max_input_len, cfg.device = batch_size, max_input_len, "cpu"
    return make_scorer(loaded, cfg)


def _best_time(fn, repeats: int) -> tuple[float, list]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _setup(model_name: str, corpus: list[str], cache: str, args) -> tuple:
    """(model, flanlab scorer, contexts) of one model; causal scorers keep their default (no EOS)."""
    torch.manual_seed(0)
    if model_name == "bytebpe":
        loaded = _byte_level_model(corpus)
        ours = _default_scorer(loaded, args.batch_size, args.ctx_tokens + 64)
    else:
        loaded = load_model(OmegaConf.load(os.path.join(ROOT, "conf", "model", f"{model_name}.yaml")),
                            corpus=lambda: corpus, cache_dir=cache)
        ours = SCORERS[loaded.arch](loaded.model, loaded.tokenizer, batch_size=args.batch_size,
                                    max_input_len=args.ctx_tokens + 64,
                                    include_eos=False if loaded.arch == "seq2seq" else None)
    return loaded, ours, _contexts(loaded.tokenizer, corpus, args.contexts, args.ctx_tokens)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, default=24)
    ap.add_argument("--ctx-tokens", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=64)  # conf/scoring default
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    catalogue = SuiteCatalogue(seed=0, train_rows=200, eval_rows=20)
    corpus = tokenizer_corpus(catalogue, rows_per_task=50)
    cache = os.path.join(os.environ.get("FLANLAB_CACHE", os.path.expanduser("~/.cache/flanlab")), "bench")
    report: dict = {"contexts": args.contexts, "ctx_tokens": args.ctx_tokens, "batch_size": args.batch_size,
                    "threads": args.threads, "repeats": args.repeats, "torch": torch.__version__}
    max_diff = 0.0
    for model_name, backend in (("tiny_t5", "seq2seq"), ("tiny_causal", "causal"), ("bytebpe", "causal")):
        loaded, ours, contexts = _setup(model_name, corpus, cache, args)
        theirs = HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, backend=backend,
                      batch_size=args.batch_size, add_bos_token=False if backend == "causal" else None)
        space = " " if backend == "causal" else ""
        cases = [("4opt", OPTIONS_4)] if model_name == "bytebpe" else [
            ("4opt", OPTIONS_4), ("1tok", _single_token_options(loaded.tokenizer, corpus))]
        for case, opts in cases:
            pairs = [(c, o) for c in contexts for o in opts]
            requests = [Instance(request_type="loglikelihood", doc={}, arguments=(c, space + o), idx=i)
                        for i, (c, o) in enumerate(pairs)]
            t_ours, got = _best_time(lambda pairs=pairs, ours=ours: ours.loglikelihoods(pairs), args.repeats)
            t_theirs, ref = _best_time(
                lambda r=requests, lm=theirs: [lp for lp, _ in lm.loglikelihood(r, disable_tqdm=True)], args.repeats)
            diff = max(abs(a - b) for a, b in zip(got, ref, strict=True))
            max_diff = max(max_diff, diff)
            key = "causal_bytebpe" if model_name == "bytebpe" else f"{backend}_{case}"
            report |= {f"flanlab_s_{key}": round(t_ours, 4), f"lm_eval_s_{key}": round(t_theirs, 4),
                       f"speedup_{key}": round(t_theirs / t_ours, 2), f"max_abs_loglik_diff_{key}": diff,
                       f"requests_{key}": len(pairs)}
            print(f"{key}: flanlab {t_ours:.3f}s  lm-eval {t_theirs:.3f}s  speedup {t_theirs / t_ours:.2f}x  "
                  f"max |diff| {diff:.2e}  ({len(pairs)} requests)", flush=True)
    report["max_abs_loglik_diff_bytebpe"] = report["max_abs_loglik_diff_causal_bytebpe"]
    report["max_abs_loglik_diff"] = max_diff
    print(json.dumps(report))


if __name__ == "__main__":
    main()
