"""flanlab's scorers vs lm-evaluation-harness's HF model on the same tiny models and requests.

Cases (tiny T5 and tiny causal, built from config; tokenizer trained on the generated suite):
* ``4opt``: ``--contexts`` contexts of ``--ctx-tokens`` tokens, 4 multi-token options each;
* ``1tok``: the same contexts with 4 single-token options each;
* ``bytebpe``: the tiny causal architecture with a GPT-2-style byte-level BPE trained on the suite
  (where " yes" and "yes" are different tokens), 4 options, scored by ``make_scorer`` with the
  shipped ``conf/scoring/default.yaml`` (``include_eos: auto`` = no EOS for causal, delimiter " "),
  only the batch size, device (cpu) and input limit (``--ctx-tokens`` + 64, so nothing is cut) set.
* ``kshot``: ``--shots``-shot prompts of the suite's classification tasks (``scoring.num_fewshot``: solved examples of
  the same task before each query, ``flanlab.scoring.fewshot``), ``--kshot-rows`` rows per task, every template,
  every option: the k-shot scoring of a held-out pass, prompts fitted to ``--ctx-tokens`` + 64 tokens as
  ``scoring.max_input_len`` fits them (whole examples dropped); ``kshot4``: its prompts with 4 or more options;
  ``options_per_prompt_*`` says how many options a case's prompts have on average;
* ``exported``: the same comparison on flanlab's *exported* tasks (``flanlab export-tasks``: the suite's nli
  cluster held out, ``--exported-rows`` rows per task, every template pooled) and an exported model folder
  (``save_pretrained`` with the shipped tokenizer, as ``flanlab export`` writes it): flanlab's scorer on the docs'
  (input, option) pairs vs ``HFLM.loglikelihood`` on the requests lm-eval's own tasks build from the YAMLs;
  ``acc_equal_exported_*`` says whether both pick the same option for every doc.
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
import tempfile
import time
from collections import Counter
from pathlib import Path

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


def _kshot_pairs(catalogue: SuiteCatalogue, loaded, shots: int, rows: int, max_len: int) -> list[tuple[str, str]]:
    """(k-shot prompt, option) pairs of the suite's classification tasks, as a k-shot scoring pass renders them
    under ``scoring.max_input_len=max_len`` (whole examples dropped where a prompt would not fit, so neither side
    truncates anything)."""
    from flanlab.data.truncation import InputLimit
    from flanlab.scoring.fewshot import FewShot
    from flanlab.scoring.zeroshot import eval_rows, render_rows

    tasks = [name for name, spec in catalogue.specs.items() if spec.is_classification]
    by_task = eval_rows(catalogue, tasks, rows)
    limit = InputLimit.for_tokenizer(loaded.tokenizer, loaded.arch, max_len)
    prompts = [p for t in tasks for p in render_rows(catalogue, t, by_task[t], "instruction", limit=limit,
                                                     fewshot=FewShot(shots, 1234))]
    return [(p.input, o) for p in prompts for o in p.options or ()]


def _cases(model_name: str, loaded, corpus: list[str], contexts: list[str], catalogue: SuiteCatalogue,
           args) -> list[tuple[str, list[tuple[str, str]]]]:
    """(case, (context, option) pairs) of one model. ``kshot4``: the k-shot prompts with 4 or more options only
    (the k-shot speedup against the number of options a prompt has)."""
    if model_name == "bytebpe":
        return [("4opt", [(c, o) for c in contexts for o in OPTIONS_4])]
    single = _single_token_options(loaded.tokenizer, corpus)
    kshot = _kshot_pairs(catalogue, loaded, args.shots, args.kshot_rows, args.ctx_tokens + 64)
    per_context = Counter(c for c, _ in kshot)
    return [("4opt", [(c, o) for c in contexts for o in OPTIONS_4]),
            ("1tok", [(c, o) for c in contexts for o in single]), ("kshot", kshot),
            ("kshot4", [(c, o) for c, o in kshot if per_context[c] >= 4])]


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


def _export_case(model_name: str, corpus: list[str], cache: str, workdir: Path, args) -> tuple[Path, Path, list]:
    """Exported held-out tasks (``flanlab export-tasks``) and an exported model folder for ``model_name``; returns
    (tasks folder, model folder, the pooled leaves' names)."""
    from flanlab.export.folder import portable_tokenizer
    from flanlab.export_command import main as export_main

    tasks_dir, model_dir = workdir / f"tasks_{model_name}", workdir / f"model_{model_name}"
    overrides = ["tasks=suite", "heldout.clusters=[nli]", f"model={model_name}", "logger=none",
                 f"data.max_eval_per_task={args.exported_rows}", f"paths.cache_dir={cache}"]
    if export_main(["export-tasks", str(tasks_dir), *overrides]) != 0:
        raise SystemExit("flanlab export-tasks failed")
    torch.manual_seed(0)
    loaded = load_model(OmegaConf.load(os.path.join(ROOT, "conf", "model", f"{model_name}.yaml")),
                        corpus=lambda: corpus, cache_dir=cache)
    loaded.model.save_pretrained(model_dir)
    portable_tokenizer(loaded.tokenizer, loaded.arch).save_pretrained(model_dir)
    index = json.loads((tasks_dir / "flanlab_tasks.json").read_text())["variants"]["instruction"]
    return tasks_dir, model_dir, [t["pooled"] for t in index["tasks"].values()]


def _exported_comparison(model_name: str, backend: str, corpus: list[str], cache: str, workdir: Path,
                         args) -> dict:
    """flanlab's scorer vs lm-eval's HFLM on one exported task set: timings, largest difference, same picks."""
    from lm_eval.tasks import TaskManager, get_task_dict
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    tasks_dir, model_dir, names = _export_case(model_name, corpus, cache, workdir, args)
    docs = [json.loads(line) for n in names for line in (tasks_dir / "data" / f"{n}.jsonl").read_text().splitlines()]
    pairs = [(d["input"], o) for d in docs for o in d["options"]]
    auto = AutoModelForSeq2SeqLM if backend == "seq2seq" else AutoModelForCausalLM
    ours = SCORERS[backend](auto.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir),
                            batch_size=args.batch_size, max_input_len=args.ctx_tokens + 64, include_eos=False)
    task_dict = get_task_dict(names, TaskManager(include_path=str(tasks_dir), include_defaults=False))
    requests = []
    for name in names:
        task_dict[name].build_all_requests(rank=0, world_size=1)
        requests += task_dict[name].instances
    lm = HFLM(pretrained=str(model_dir), backend=backend, batch_size=args.batch_size, device="cpu")
    t_ours, got = _best_time(lambda: ours.loglikelihoods(pairs), args.repeats)
    t_theirs, ref = _best_time(lambda: [lp for lp, _ in lm.loglikelihood(requests, disable_tqdm=True)], args.repeats)
    space = " " if backend == "causal" else ""
    theirs = {(r.arguments[0], r.arguments[1][len(space):]): v for r, v in zip(requests, ref, strict=True)}
    diff = max(abs(a - theirs[p]) for a, p in zip(got, pairs, strict=True))
    picks, start = [], 0
    for d in docs:
        n = len(d["options"])
        mine, other = got[start:start + n], [theirs[(d["input"], o)] for o in d["options"]]
        picks.append(max(range(n), key=mine.__getitem__) == max(range(n), key=other.__getitem__))
        start += n
    key = f"exported_{backend}"
    print(f"{key}: flanlab {t_ours:.3f}s  lm-eval {t_theirs:.3f}s  speedup {t_theirs / t_ours:.2f}x  "
          f"max |diff| {diff:.2e}  same picks {all(picks)}  ({len(pairs)} requests, {len(docs)} docs)", flush=True)
    return {f"flanlab_s_{key}": round(t_ours, 4), f"lm_eval_s_{key}": round(t_theirs, 4),
            f"speedup_{key}": round(t_theirs / t_ours, 2), f"max_abs_loglik_diff_{key}": diff,
            f"requests_{key}": len(pairs), f"acc_equal_{key}": all(picks)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, default=24)
    ap.add_argument("--ctx-tokens", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=64)  # conf/scoring default
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--exported-rows", type=int, default=24, help="rows per task of the exported-task case")
    ap.add_argument("--shots", type=int, default=5, help="solved examples per prompt in the k-shot case")
    ap.add_argument("--kshot-rows", type=int, default=8, help="rows per task of the k-shot case")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    catalogue = SuiteCatalogue(seed=0, train_rows=200, eval_rows=20)
    corpus = tokenizer_corpus(catalogue, rows_per_task=50)
    cache = os.path.join(os.environ.get("FLANLAB_CACHE", os.path.expanduser("~/.cache/flanlab")), "bench")
    report: dict = {"contexts": args.contexts, "ctx_tokens": args.ctx_tokens, "batch_size": args.batch_size,
                    "threads": args.threads, "repeats": args.repeats, "torch": torch.__version__}
    max_diff = 0.0
    report |= {"shots": args.shots, "kshot_rows": args.kshot_rows}
    for model_name, backend in (("tiny_t5", "seq2seq"), ("tiny_causal", "causal"), ("bytebpe", "causal")):
        loaded, ours, contexts = _setup(model_name, corpus, cache, args)
        theirs = HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, backend=backend,
                      batch_size=args.batch_size, add_bos_token=False if backend == "causal" else None)
        space = " " if backend == "causal" else ""
        for case, pairs in _cases(model_name, loaded, corpus, contexts, catalogue, args):
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
                       f"requests_{key}": len(pairs),
                       f"options_per_prompt_{key}": round(len(pairs) / len({c for c, _ in pairs}), 2)}
            print(f"{key}: flanlab {t_ours:.3f}s  lm-eval {t_theirs:.3f}s  speedup {t_theirs / t_ours:.2f}x  "
                  f"max |diff| {diff:.2e}  ({len(pairs)} requests)", flush=True)
    with tempfile.TemporaryDirectory(prefix="flanlab-bench-export-") as workdir:
        for model_name, backend in (("tiny_t5", "seq2seq"), ("tiny_causal", "causal")):
            exported = _exported_comparison(model_name, backend, corpus, cache, Path(workdir), args)
            report |= exported
            max_diff = max(max_diff, exported[f"max_abs_loglik_diff_exported_{backend}"])
    report["max_abs_loglik_diff_bytebpe"] = report["max_abs_loglik_diff_causal_bytebpe"]
    report["max_abs_loglik_diff"] = max_diff
    print(json.dumps(report))


if __name__ == "__main__":
    main()
