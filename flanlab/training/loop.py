"""The fit loop, readable top to bottom: sample a batch, forward, backward, step, log."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import datasets
import torch
from omegaconf import DictConfig
from tqdm.auto import tqdm

from flanlab.data.collate import Collator
from flanlab.errors import ConfigError
from flanlab.models.load import LoadedModel
from flanlab.tracking.run import Tracker
from flanlab.training.optim import make_optimizer, make_schedule

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    steps: int
    final_loss: float
    seconds: float
    tokens_per_s: float
    losses: list[tuple[int, float]]


def check_train_config(cfg: DictConfig) -> None:
    """Reject non-positive sizes before any work starts."""
    for key in ("steps", "batch_size", "grad_accum"):
        if int(cfg[key]) <= 0:
            raise ConfigError(f"train.{key} must be a positive integer, got {cfg[key]!r}")
    if float(cfg.lr) <= 0:
        raise ConfigError(f"train.lr must be positive, got {cfg.lr!r}")


def batches(n_rows: int, batch_size: int, seed: int) -> Iterator[list[int]]:
    """Endless row-index batches: a fresh seeded permutation each epoch."""
    gen = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n_rows, generator=gen).tolist()
        for start in range(0, n_rows - batch_size + 1 if n_rows >= batch_size else 1, batch_size):
            yield order[start : start + batch_size]


def fit(loaded: LoadedModel, data: datasets.Dataset, cfg: DictConfig, tracker: Tracker, seed: int) -> FitResult:
    """Fine-tune ``loaded.model`` in place on tokenised ``data`` for ``cfg.steps`` optimiser steps."""
    check_train_config(cfg)
    model, steps, accum = loaded.model, int(cfg.steps), int(cfg.grad_accum)
    model.train()
    optimizer = make_optimizer(model, cfg.optimizer, float(cfg.lr), float(cfg.weight_decay))
    schedule = make_schedule(optimizer, cfg.schedule, int(cfg.warmup_steps), steps)
    collate = Collator(loaded.arch, loaded.tokenizer.pad_token_id)
    rows = [{"input_ids": i, "labels": lab} for i, lab in zip(data["input_ids"], data["labels"], strict=True)]
    sampler = batches(len(rows), int(cfg.batch_size), seed)
    losses: list[tuple[int, float]] = []
    window, tokens, start = [], 0, time.perf_counter()
    bar = tqdm(range(1, steps + 1), desc="train", disable=not cfg.get("progress", True), mininterval=2)
    for step in bar:
        for _ in range(accum):
            batch = collate([rows[i] for i in next(sampler)])
            loss = model(**batch).loss / accum
            loss.backward()
            window.append(loss.item() * accum)
            tokens += int(batch["attention_mask"].sum()) + int((batch["labels"] != -100).sum())
        if cfg.clip_norm:
            torch.nn.utils.clip_grad_norm_(model.parameters(), float(cfg.clip_norm))
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % int(cfg.log_every) == 0 or step == steps:
            mean_loss = sum(window) / len(window)
            elapsed = time.perf_counter() - start
            losses.append((step, mean_loss))
            tracker.log({"train/loss": mean_loss, "train/lr": schedule.get_last_lr()[0],
                         "train/tokens_per_s": tokens / elapsed}, step=step)
            bar.set_postfix(loss=f"{mean_loss:.3f}")
            if not math.isfinite(mean_loss):
                raise FloatingPointError(f"train loss became {mean_loss} at step {step}; lower train.lr")
            window = []
    seconds = time.perf_counter() - start
    model.eval()
    return FitResult(steps=steps, final_loss=losses[-1][1], seconds=seconds,
                     tokens_per_s=tokens / seconds, losses=losses)
