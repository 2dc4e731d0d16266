"""flanlab's fit loop vs Hugging Face ``Seq2SeqTrainer``: tokens/s and non-pad fraction, same model and data.

Both sides train the tiny T5 (``conf/model/tiny_t5.yaml``, built from config with the suite's
tokenizer) from the same initial weights on the same rows of the default suite mixture (instruction
variant, NLI held out), with the same global batch, optimiser (AdamW), learning rate and number of
steps, on ``--threads`` CPU threads. HF gets random batches padded by ``DataCollatorForSeq2Seq``;
flanlab runs its ``random``, ``bucketed`` (the default) and ``packed`` batching.

tokens/s counts *non-pad* tokens (encoder + decoder) per second of wall time around ``train()`` /
``fit()``, set-up included on both sides. ``speedup_vs_hf_trainer`` uses flanlab's default batching;
``speedup_same_batching`` compares random batches on both sides (the loop's own overhead).

Run: python experiments/bench/train.py            (last line: JSON)
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

import torch
from omegaconf import OmegaConf
from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

from flanlab.data.collate import tokenize_mixture
from flanlab.data.mixture import build_mixture
from flanlab.models.load import LoadedModel, load_model
from flanlab.pipeline import tokenizer_corpus
from flanlab.splits import make_split
from flanlab.tasks.suite.catalogue import SuiteCatalogue
from flanlab.tracking.run import NullTracker
from flanlab.training.loop import fit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CountingCollator(DataCollatorForSeq2Seq):
    """HF's padding collator, counting real and padded token slots."""

    nonpad = slots = 0

    def __call__(self, features, return_tensors=None):
        batch = super().__call__(features, return_tensors)
        self.nonpad += int(batch["attention_mask"].sum()) + int((batch["labels"] != -100).sum())
        self.slots += batch["input_ids"].numel() + batch["labels"].numel()
        return batch


def hf_trainer(loaded: LoadedModel, data, steps: int, batch: int, lr: float, warmup: int) -> dict:
    collator = CountingCollator(loaded.tokenizer, model=loaded.model, label_pad_token_id=-100)
    with tempfile.TemporaryDirectory() as out:
        args = Seq2SeqTrainingArguments(
            output_dir=out, per_device_train_batch_size=batch, max_steps=steps, learning_rate=lr,
            lr_scheduler_type="constant_with_warmup", warmup_steps=warmup, weight_decay=0.0, max_grad_norm=1.0,
            optim="adamw_torch", logging_steps=max(steps, 1), save_strategy="no", report_to=[], use_cpu=True,
            dataloader_num_workers=0, disable_tqdm=True, seed=0)
        trainer = Seq2SeqTrainer(model=loaded.model, args=args, train_dataset=data, data_collator=collator)
        start = time.perf_counter()
        out_ = trainer.train()
        seconds = time.perf_counter() - start
    return {"tokens_per_s": collator.nonpad / seconds, "nonpad_fraction": collator.nonpad / collator.slots,
            "seconds": seconds, "final_loss": out_.training_loss}


def flanlab_fit(loaded: LoadedModel, data, train_cfg, mode: str) -> dict:
    cfg = OmegaConf.merge(train_cfg, {"batching": mode})
    start = time.perf_counter()
    res = fit(loaded, data, cfg, NullTracker(), seed=0)
    seconds = time.perf_counter() - start
    return {"tokens_per_s": res.tokens_per_s * res.seconds / seconds, "nonpad_fraction": res.nonpad_fraction,
            "seconds": seconds, "final_loss": res.final_loss, "mfu": res.mfu, "peak_flops": res.peak_flops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rows", type=int, default=4096, help="mixture rows used (a seeded sample)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pack-len", type=int, default=256)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)

    catalogue = SuiteCatalogue(seed=0, train_rows=400, eval_rows=16)
    split = make_split(catalogue.clusters, ["nli"], OmegaConf.load(f"{ROOT}/conf/split/flan.yaml").related)
    mixture = build_mixture(catalogue, split, "instruction", max_per_task=400, seed=0)
    model_cfg = OmegaConf.load(f"{ROOT}/conf/model/tiny_t5.yaml")
    torch.manual_seed(0)
    base = load_model(model_cfg, corpus=lambda: tokenizer_corpus(catalogue),
                      cache_dir=os.path.expanduser("~/.cache/flanlab"))
    examples = mixture.examples.shuffle(seed=0).select(range(min(args.rows, len(mixture.examples))))
    data = tokenize_mixture(examples, base.tokenizer, "seq2seq", max_input_len=128, max_target_len=32)
    data = data.select_columns(["input_ids", "labels"])
    train_cfg = OmegaConf.merge(OmegaConf.load(f"{ROOT}/conf/train/default.yaml"), {
        "steps": args.steps, "batch_size": args.batch_size, "warmup_steps": min(10, args.steps), "progress": False,
        "log_every": args.steps, "pack_len": args.pack_len, "device": "cpu"})

    def fresh() -> LoadedModel:
        return LoadedModel(copy.deepcopy(base.model).train(), base.tokenizer, "seq2seq", base.name)

    hf = hf_trainer(fresh(), data, args.steps, args.batch_size, float(train_cfg.lr), int(train_cfg.warmup_steps))
    runs = {mode: flanlab_fit(fresh(), data, train_cfg, mode) for mode in ("random", "bucketed", "packed")}
    default = train_cfg.batching
    for name, r in [("hf_trainer", hf), *runs.items()]:
        print(f"{name:>11}: {r['tokens_per_s']:8.0f} non-pad tokens/s  non-pad {r['nonpad_fraction']:.3f}  "
              f"{r['seconds']:6.1f} s  final loss {r['final_loss']:.3f}")
    print(json.dumps({
        "speedup_vs_hf_trainer": round(runs[default]["tokens_per_s"] / hf["tokens_per_s"], 3),
        "speedup_same_batching": round(runs["random"]["tokens_per_s"] / hf["tokens_per_s"], 3),
        "speedup_packed_vs_hf_trainer": round(runs["packed"]["tokens_per_s"] / hf["tokens_per_s"], 3),
        "nonpad_fraction_packed": round(runs["packed"]["nonpad_fraction"], 4),
        "nonpad_fraction_padded": round(runs["random"]["nonpad_fraction"], 4),
        "nonpad_fraction_bucketed": round(runs["bucketed"]["nonpad_fraction"], 4),
        "nonpad_fraction_hf_trainer": round(hf["nonpad_fraction"], 4),
        "tokens_per_s": {"hf_trainer": round(hf["tokens_per_s"]),
                         **{k: round(v["tokens_per_s"]) for k, v in runs.items()}},
        "mfu_bucketed": round(runs["bucketed"]["mfu"], 4), "peak_flops_assumed": runs["bucketed"]["peak_flops"],
        "default_batching": default, "steps": args.steps, "global_batch": args.batch_size, "threads": args.threads,
        "rows": len(data),
    }))


if __name__ == "__main__":
    main()
