"""flanlab's scorers vs lm-evaluation-harness's HF model on the same tiny models and requests.

Cases (tiny T5 and tiny causal, built from config; tokenizer trained on the generated suite):
* ``4opt``: ``--contexts`` contexts of ``--ctx-tokens`` tokens, 4 multi-token options each;
* ``1tok``: the same contexts with 4 single-token options each.
Both sides get the same requests, the same batch size (sequences per forward pass) and one CPU
thread; the best of ``--repeats`` timings counts. Scores use ``include_eos=False`` on flanlab's side
(lm-eval scores no EOS), so ``max_abs_loglik_diff`` compares like with like.

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

import torch
from lm_eval.api.instance import Instance
from lm_eval.models.huggingface import HFLM
from omegaconf import OmegaConf

from flanlab.models.load import load_model
from flanlab.pipeline import tokenizer_corpus
from flanlab.scoring.scorers import SCORERS
from flanlab.tasks.generated import SuiteCatalogue

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


def _best_time(fn, repeats: int) -> tuple[float, list]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


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
    for model_name, backend in (("tiny_t5", "seq2seq"), ("tiny_causal", "causal")):
        torch.manual_seed(0)
        loaded = load_model(OmegaConf.load(os.path.join(ROOT, "conf", "model", f"{model_name}.yaml")),
                            corpus=lambda: corpus, cache_dir=cache)
        tok = loaded.tokenizer
        contexts = _contexts(tok, corpus, args.contexts, args.ctx_tokens)
        ours = SCORERS[loaded.arch](loaded.model, tok, batch_size=args.batch_size, include_eos=False,
                                    max_input_len=args.ctx_tokens + 64)
        theirs = HFLM(pretrained=loaded.model, tokenizer=tok, backend=backend, batch_size=args.batch_size,
                      add_bos_token=False if backend == "causal" else None)
        space = " " if backend == "causal" else ""
        for case, options in (("4opt", OPTIONS_4), ("1tok", _single_token_options(tok, corpus))):
            pairs = [(c, o) for c in contexts for o in options]
            requests = [Instance(request_type="loglikelihood", doc={}, arguments=(c, space + o), idx=i)
                        for i, (c, o) in enumerate(pairs)]
            t_ours, got = _best_time(lambda pairs=pairs, ours=ours: ours.loglikelihoods(pairs), args.repeats)
            t_theirs, ref = _best_time(
                lambda r=requests, lm=theirs: [lp for lp, _ in lm.loglikelihood(r, disable_tqdm=True)], args.repeats)
            diff = max(abs(a - b) for a, b in zip(got, ref, strict=True))
            max_diff = max(max_diff, diff)
            key = f"{backend}_{case}"
            report |= {f"flanlab_s_{key}": round(t_ours, 4), f"lm_eval_s_{key}": round(t_theirs, 4),
                       f"speedup_{key}": round(t_theirs / t_ours, 2), f"max_abs_loglik_diff_{key}": diff,
                       f"requests_{key}": len(pairs)}
            print(f"{key}: flanlab {t_ours:.3f}s  lm-eval {t_theirs:.3f}s  speedup {t_theirs / t_ours:.2f}x  "
                  f"max |diff| {diff:.2e}  ({len(pairs)} requests)", flush=True)
    report["max_abs_loglik_diff"] = max_diff
    print(json.dumps(report))


if __name__ == "__main__":
    main()
