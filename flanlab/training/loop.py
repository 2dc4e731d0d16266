"""The fit loop, readable top to bottom: set up, (resume), then step: batch, forward, backward, update, log, save.

Batch sizes: ``train.batch_size`` rows per micro-batch per process; one optimizer step sees
``batch_size x grad_accum x world_size`` rows (the global batch). The loss of a step is the mean
over *all target tokens of the global batch* (each micro-batch's summed loss is divided by the
global token count), so 1 process and N processes with the same global batch compute the same
loss and gradients, and gradient accumulation is exact.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import torch
from omegaconf import DictConfig
from tqdm.auto import tqdm

from flanlab.data.collate import PaddedCollator
from flanlab.data.packing import PackedCollator
from flanlab.errors import ConfigError
from flanlab.faults import RunFault, disk_full, is_disk_full, memory_fault
from flanlab.hardware import resolve_precision
from flanlab.models.load import LoadedModel
from flanlab.models.peft import is_peft
from flanlab.tracking.run import Tracker
from flanlab.training import checkpoint as ckpt
from flanlab.training import distributed as dist
from flanlab.training.fsdp import gather_whole_model
from flanlab.training.model import TrainModule, backbone, target_tokens
from flanlab.training.optim import make_optimizer, make_schedule
from flanlab.training.sampler import BatchSampler, sort_key
from flanlab.training.throughput import FlopCounter, peak_flops

log = logging.getLogger(__name__)
NONFINITE_POLICIES = ("stop", "skip_batch")  # train.on_nonfinite


@dataclass
class FitResult:
    steps: int
    final_loss: float
    seconds: float
    tokens_per_s: float
    losses: list[tuple[int, float]]
    nonpad_fraction: float = 0.0
    mfu: float = 0.0
    peak_flops: float = 0.0
    peak_flops_source: str = ""
    global_batch: int = 0
    resumed_from: int | None = None
    skipped_batches: int = 0
    curve: list[dict] = field(default_factory=list)  # held-out curve points (``CurveHook``), oldest first


@dataclass
class CurveHook:
    """Held-out curve points during training (``scoring.curve_every``): ``score(step, tokens_seen)`` evaluates the
    model and returns that evaluation's points. The loop calls it before the first update (step 0) of a fresh run,
    every ``every`` steps and at the last step, on the main rank only; it holds no collectives."""

    every: int
    score: Callable[[int, int], list[dict]]


@dataclass
class Progress:
    """Where a run stands, from a checkpoint or fresh: the next step, the logged losses, the open loss window
    (summed loss, target tokens), the batches skipped, the non-pad tokens seen and the curve points so far."""

    start: int = 1
    losses: list = field(default_factory=list)
    window: list[float] = field(default_factory=lambda: [0.0, 0.0])
    skipped: int = 0
    tokens: float = 0.0
    curve: list[dict] = field(default_factory=list)


def check_train_config(cfg: DictConfig) -> None:
    """Reject non-positive sizes and unknown choices of the ``train`` section before any work starts."""
    from flanlab.config_checks import check_values

    check_values(cfg, prefix="train")


def resolve_resume(value: object) -> str:
    """``resume`` config value -> ``auto`` | ``true`` | ``false``."""
    text = str(value).lower()
    if text not in ("auto", "true", "false"):
        raise ConfigError(f"resume must be auto, true or false, got {value!r}")
    return text


@dataclass
class Setup:
    """What the loop needs, built once by ``set_up``: where it runs, the wrapped model, optimiser, data order and
    the counters' constants."""

    device: torch.device
    distributed: bool
    rank: int
    world: int
    micro: int
    accum: int
    dtype: torch.dtype
    model: Any
    module: Any
    step_fn: Any
    optimizer: Any
    schedule: Any
    collate: Any
    rows: list[dict]
    sampler: BatchSampler
    flops: FlopCounter
    head_only: bool
    peak: float
    peak_source: str
    fingerprint: str


def fit(loaded: LoadedModel, data: datasets.Dataset, cfg: DictConfig, tracker: Tracker, seed: int, *,
        checkpoint_dir: str | Path | None = None, resume: object = "auto", cpu_bf16: bool = False,
        cache_dir: str | Path | None = None, curve: CurveHook | None = None) -> FitResult:
    """Fine-tune ``loaded.model`` in place on tokenised ``data`` for ``cfg.steps`` optimiser steps.

    ``cpu_bf16``: the model's config opts in to bf16 autocast on a bf16-capable CPU under
    ``precision: auto``; ``cache_dir``: where the measured peak FLOP/s is cached (``paths.cache_dir``);
    ``curve``: held-out curve points during training (``CurveHook``; their time is not counted as training time).
    """
    check_train_config(cfg)
    run = set_up(loaded, data, cfg, seed, cpu_bf16, cache_dir)
    check_curve(run, cfg, curve)
    found, done = resume_from(checkpoint_dir, resolve_resume(resume), run, loaded.name)
    losses, window, points = done.losses, done.window, done.curve
    steps, every = int(cfg.steps), int(cfg.checkpoint_every or 0)
    counts = {"nonpad": 0.0, "slots": 0.0, "flops": 0.0, "tokens": done.tokens, "skipped": float(done.skipped),
              "curve_s": 0.0}
    show = cfg.progress and dist.is_main()
    bar = tqdm(range(done.start, steps + 1), desc="train", disable=not show, mininterval=2)
    start = time.perf_counter()
    if curve is not None and done.start == 1:
        points += curve_points(run, curve, 0, counts)
    for step in bar:
        guarded_step(run, cfg, counts, window, loaded.arch, step)
        if step % int(cfg.log_every) == 0 or step == steps:
            mean_loss = log_window(tracker, step, window, counts, time.perf_counter() - start - counts["curve_s"],
                                   run.peak, run.schedule.get_last_lr()[0], run.device)
            losses.append((step, mean_loss))
            bar.set_postfix(loss=f"{mean_loss:.3f}")
            window = [0.0, 0.0]
        if curve is not None and (step % curve.every == 0 or step == steps):
            points += curve_points(run, curve, step, counts)
        if checkpoint_dir and ((every and step % every == 0) or step == steps):
            save_checkpoint(checkpoint_dir, step, run.module, run.optimizer, int(cfg.keep_checkpoints or 1), {
                "schedule": run.schedule.state_dict(), "sampler": run.sampler.state_dict(), "losses": losses,
                "window": window, "fingerprint": run.fingerprint, "model_name": loaded.name,
                "skipped_batches": int(counts["skipped"]), "tokens_seen": counts["tokens"], "curve": points})
    seconds = time.perf_counter() - start - counts["curve_s"]
    result = wrap_up(run, loaded, cfg, counts, seconds, losses, done.start - 1 if found is not None else None)
    result.curve = points
    return result


def check_curve(run: Setup, cfg: DictConfig, curve: CurveHook | None) -> None:
    """Curve points need the whole model on the main rank: FSDP shards it (gathering it is a collective)."""
    if curve is not None and run.distributed and cfg.parallel == "fsdp":
        raise ConfigError("scoring.curve_every needs whole weights on the main rank, which FSDP shards; use "
                          "train.parallel=ddp, or scoring.curve_every=0")


def curve_points(run: Setup, curve: CurveHook, step: int, counts: dict[str, float]) -> list[dict]:
    """One curve evaluation at ``step`` on the main rank (no collectives; other ranks go on to the next step and
    wait for it there). The training RNG streams (torch, CUDA, numpy, Python) are saved and put back, and the model
    returns to training mode on the training device, so training continues exactly as without it."""
    if not dist.is_main():
        return []
    began, rng = time.perf_counter(), ckpt.rng_state()
    try:
        return curve.score(step, int(counts["tokens"]))
    finally:
        ckpt.set_rng_state(rng)
        run.model.to(run.device).train()
        counts["curve_s"] += time.perf_counter() - began


def set_up(loaded: LoadedModel, data: datasets.Dataset, cfg: DictConfig, seed: int, cpu_bf16: bool,
           cache_dir: str | Path | None) -> Setup:
    """Device, precision, process group, model wrapper, optimiser, schedule, data order and FLOP counter."""
    steps, accum, micro = int(cfg.steps), int(cfg.grad_accum), int(cfg.batch_size)
    device = dist.device_for(cfg.device)
    distributed = dist.setup(device)
    rank, world = dist.rank(), dist.world_size()
    dtype = resolve_precision(device, cfg.precision, cpu_bf16=cpu_bf16)
    torch.manual_seed(seed + rank)
    model = loaded.model.to(device).train()
    target_only = bool(cfg.target_only_logits)
    module = dist.wrap(TrainModule(model, loaded.arch, dtype, target_only), cfg.parallel, device)
    step_fn = torch.compile(module) if cfg.compile else module
    optimizer = make_optimizer(module, cfg.optimizer, float(cfg.lr), float(cfg.weight_decay))
    schedule = make_schedule(optimizer, cfg.schedule, int(cfg.warmup_steps), steps)
    collate, rows, sampler = batching(loaded, data, cfg, micro * accum * world, seed)
    flops = FlopCounter(model, loaded.arch, frozen_base=is_peft(model))  # LoRA: no weight gradients
    head_only = loaded.arch == "causal" and target_only and backbone(model) is not None  # LM head at targets only
    peak, peak_source = peak_flops(device, dtype, cfg.peak_flops, cache_dir)
    return Setup(device, distributed, rank, world, micro, accum, dtype, model, module, step_fn, optimizer, schedule,
                 collate, rows, sampler, flops, head_only, peak, peak_source, ckpt.model_fingerprint(model))


def resume_from(checkpoint_dir: str | Path | None, resume: str, run: Setup,
                name: str) -> tuple[Path | None, Progress]:
    """The newest readable checkpoint (unless ``resume`` is false) and what ``restore`` takes from it.

    An unreadable checkpoint is skipped with a warning naming it, and the next older one is tried. With none left,
    ``resume=auto`` starts afresh (a warning says so) and ``resume=true`` stops with one line."""
    found, state, damaged = None, None, []
    if checkpoint_dir and resume != "false":
        for path in reversed(ckpt.checkpoints(checkpoint_dir)):
            try:
                found, state = path, ckpt.load(path, run.fingerprint, name)
                break
            except ckpt.Unreadable as err:
                damaged.append(f"{path.name} ({err})")
                log.warning("checkpoint %s cannot be read (%s); trying the next older one", path, err)
    if state is None and resume == "true":
        why = f"; unreadable: {', '.join(damaged)}" if damaged else ""
        raise RunFault(f"resume=true but there is no readable checkpoint under {checkpoint_dir}{why}; "
                       "resume=auto starts afresh when none can be read")
    if state is None and damaged:
        log.warning("no readable checkpoint under %s; training starts afresh", checkpoint_dir)
    return found, restore(found, state, run)


def guarded_step(run: Setup, cfg: DictConfig, counts: dict[str, float], window: list[float], arch: str,
                 step: int) -> None:
    """``train_step`` with its expected faults as one line: memory running out, or a non-finite loss or gradient
    (stopped, or skipped up to ``train.max_skipped_batches`` under ``train.on_nonfinite=skip_batch``)."""
    advice = (f"lower train.batch_size (now {run.micro}) and raise train.grad_accum to keep the global batch, "
              f"or lower train.max_input_len (now {cfg.max_input_len})")
    with memory_fault(f"training at step {step}", str(run.device), advice):
        finite = train_step(run, cfg, counts, window, arch)
    if finite is not None:
        return
    lr, limit = run.schedule.get_last_lr()[0], int(cfg.max_skipped_batches)
    loss, norm = counts["bad_loss"], counts["bad_norm"]
    became = f"loss became {loss:g}" if not math.isfinite(loss) else f"gradient norm became {norm:g} (loss {loss:g})"
    what = f"the training {became} at step {step} (lr {lr:.3g}, train.clip_norm {cfg.clip_norm})"
    if cfg.on_nonfinite == "stop":
        clip = "" if cfg.clip_norm else ", set train.clip_norm"
        raise RunFault(f"{what}; lower train.lr (now {float(cfg.lr):g}), raise train.warmup_steps (now "
                       f"{cfg.warmup_steps}){clip}, or skip such batches with train.on_nonfinite=skip_batch")
    if counts["skipped"] > limit:
        raise RunFault(f"{what}, and {int(counts['skipped'])} batches were skipped, more than "
                       f"train.max_skipped_batches={limit}; lower train.lr (now {float(cfg.lr):g})")
    log.warning("%s; batch skipped (%d of at most %d)", what, int(counts["skipped"]), limit)


def train_step(run: Setup, cfg: DictConfig, counts: dict[str, float], window: list[float], arch: str) -> bool | None:
    """One optimiser step: this process's micro-batches, forward, backward (loss over the global batch's target
    tokens), clip, update; adds the summed loss and target tokens to ``window``.

    Returns True, or None when the loss or the gradient norm was not finite on any process: then nothing is
    updated (the schedule still steps), ``counts["skipped"]`` grows and the window keeps its finite sums."""
    micro, accum = run.micro, run.accum
    drawn = next(run.sampler)
    idx = drawn[run.rank * micro * accum : (run.rank + 1) * micro * accum]
    shards = [[run.rows[i] for i in idx[j * micro : (j + 1) * micro]] for j in range(accum)]
    batches = [{k: v.to(run.device) for k, v in run.collate(s).items()} for s in shards]
    local = [float(target_tokens(b, arch)) for b in batches]
    (global_tokens,) = dist.all_sum([sum(local)], run.device)
    autocast = (torch.autocast(run.device.type, dtype=run.dtype) if run.dtype != torch.float32
                else contextlib.nullcontext())
    before = window[0]
    for j, batch in enumerate(batches):
        with dist.grad_sync(run.module, j == accum - 1), autocast:
            loss_sum = run.step_fn(**batch)
        (loss_sum * run.world / global_tokens).backward()  # DDP averages gradients over `world`
        window[0] += loss_sum.item()
    count_tokens(counts, shards, batches, local, run.flops, arch, run.head_only)
    norm = torch.nn.utils.clip_grad_norm_(run.module.parameters(), float(cfg.clip_norm)) if cfg.clip_norm else 0.0
    (bad,) = dist.all_sum([float(not (math.isfinite(window[0]) and math.isfinite(float(norm))))], run.device)
    if bad:
        counts["bad_loss"], counts["bad_norm"] = window[0] - before, float(norm)
        window[0] = before
        run.optimizer.zero_grad(set_to_none=True)
        with warnings.catch_warnings():  # the schedule keeps counting steps, as when the update is made
            warnings.filterwarnings("ignore", message=r".*lr_scheduler.step\(\)` before `optimizer.step\(\)")
            run.schedule.step()
        counts["skipped"] += 1
        return None
    window[1] += sum(local)
    counts["tokens"] += batch_tokens(run.rows, drawn, arch)
    run.optimizer.step()
    run.schedule.step()
    run.optimizer.zero_grad(set_to_none=True)
    return True


def batch_tokens(rows: list[dict], drawn: list[int], arch: str) -> float:
    """The non-pad tokens of a whole global batch (every process's share), counted as ``count_tokens`` counts
    them; every rank computes the same number without a collective."""
    return float(sum(len(rows[i]["input_ids"]) + (len(rows[i]["labels"]) if arch == "seq2seq" else 0)
                     for i in drawn))


def wrap_up(run: Setup, loaded: LoadedModel, cfg: DictConfig, counts: dict[str, float], seconds: float,
            losses: list, resumed_from: int | None) -> FitResult:
    """Totals over all processes, the FSDP gather, leaving the process group; the model stays on its device."""
    nonpad, slots, fl = dist.all_sum([counts["nonpad"], counts["slots"], counts["flops"]], run.device)
    if run.distributed and cfg.parallel == "fsdp":
        gather_fsdp_model(loaded, run.model, run.module)
    if run.distributed:
        run.module = run.step_fn = run.optimizer = None
        dist.teardown()
    loaded.model.eval()  # stays on the training device; make_scorer moves it to scoring.device
    return FitResult(steps=int(cfg.steps), final_loss=losses[-1][1], seconds=seconds,
                     tokens_per_s=nonpad / max(seconds, 1e-9), losses=losses, nonpad_fraction=nonpad / max(slots, 1.0),
                     mfu=fl / max(seconds, 1e-9) / run.peak if run.peak else 0.0, peak_flops=run.peak,
                     peak_flops_source=run.peak_source, global_batch=run.micro * run.accum * run.world,
                     resumed_from=resumed_from, skipped_batches=int(counts["skipped"]))


def batching(loaded: LoadedModel, data: datasets.Dataset, cfg: DictConfig, global_batch: int,
             seed: int) -> tuple[Any, list[dict], BatchSampler]:
    """The collator (``packed`` or padded), the tokenised rows and the seeded global-batch sampler."""
    mode = cfg.batching
    pad = loaded.tokenizer.pad_token_id
    start = getattr(loaded.model.config, "decoder_start_token_id", None) or 0
    collate = (PackedCollator(loaded.arch, pad, int(cfg.pack_len), start)
               if mode == "packed" else PaddedCollator(loaded.arch, pad))
    rows = [{"input_ids": i, "labels": lab} for i, lab in zip(data["input_ids"], data["labels"], strict=True)]
    keys = [sort_key(loaded.arch, r["input_ids"], r["labels"]) for r in rows]
    return collate, rows, BatchSampler(keys, global_batch, seed, mode, int(cfg.bucket_pool))


def restore(found: Path | None, state: dict | None, run: Setup) -> Progress:
    """Model, optimiser, schedule, RNG and data position from checkpoint ``state`` (read from ``found``); returns
    where the run stands (a fresh ``Progress`` when there is none). Checkpoints written before curves and token
    counts were kept resume with none."""
    if state is None:
        return Progress()
    ckpt.restore_model_state(run.module, run.optimizer, state)
    run.schedule.load_state_dict(state["schedule"])
    run.sampler.load_state_dict(state["sampler"])
    ckpt.set_rng_state(state["rng"][min(run.rank, len(state["rng"]) - 1)])
    log.info("resumed from %s (step %d)", found, state["step"])
    return Progress(state["step"] + 1, [tuple(x) for x in state["losses"]], state["window"],
                    state.get("skipped_batches", 0), float(state.get("tokens_seen", 0.0)), list(state.get("curve", [])))


def log_window(tracker: Tracker, step: int, window: list[float], counts: dict[str, float], elapsed: float,
               peak: float, lr: float, device: torch.device) -> float:
    """The mean loss of the window over all processes; logs it with throughput and MFU (rank 0)."""
    loss_total, token_total = dist.all_sum(window, device)
    mean_loss = loss_total / max(token_total, 1.0)
    nonpad, slots, fl = dist.all_sum([counts["nonpad"], counts["slots"], counts["flops"]], device)
    if dist.is_main():
        tracker.log({"train/loss": mean_loss, "train/lr": lr, "train/tokens_per_s": nonpad / elapsed,
                     "train/nonpad_fraction": nonpad / slots, "train/mfu": fl / elapsed / peak if peak else 0.0,
                     "train/peak_flops": peak}, step=step)
    return mean_loss


def gather_fsdp_model(loaded: LoadedModel, model, module) -> None:
    """FSDP left sharded weights: rebuild a whole model on rank 0 (a collective; other ranks receive nothing)."""
    whole = gather_whole_model(module, model)
    if whole is not None:
        loaded.model = whole


def count_tokens(counts: dict[str, float], shards: list[list[dict]], batches: list[dict], local: list[float],
                 flops: FlopCounter, arch: str, head_only: bool) -> None:
    """Add one step's FLOPs, non-pad tokens and padded slots to ``counts`` (the LM head at targets only
    when ``head_only``)."""
    for j, shard in enumerate(shards):
        ins, outs = [len(r["input_ids"]) for r in shard], [len(r["labels"]) for r in shard]
        counts["flops"] += flops.step(ins, outs, int(local[j]) if head_only else None)
        counts["nonpad"] += sum(ins) + (sum(outs) if arch == "seq2seq" else 0)
    counts["slots"] += sum(b["input_ids"].numel() + (b["labels"].numel() if arch == "seq2seq" else 0)
                           for b in batches)


def save_checkpoint(checkpoint_dir: str | Path, step: int, module, optimizer, keep: int, state: dict) -> None:
    """Gather model, optimiser and every process's RNG state (collectives), then save on rank 0."""
    model_state, optim_state = ckpt.gather_model_state(module, optimizer)
    rngs = dist.gather_objects(ckpt.rng_state())
    if not dist.is_main():
        return
    try:
        ckpt.save(checkpoint_dir, step, {"step": step, "model": model_state, "optimizer": optim_state,
                                         "rng": rngs, **state}, keep=keep)
    except OSError as err:
        if not is_disk_full(err):
            raise
        raise disk_full(Path(checkpoint_dir) / f"{ckpt.PREFIX}{step:08d}", f"the step-{step} checkpoint",
                        "free space there, or keep fewer checkpoints (train.keep_checkpoints, "
                        "train.checkpoint_every=0 saves only the last)") from err
