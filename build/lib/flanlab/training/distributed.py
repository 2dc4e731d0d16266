"""torch.distributed plumbing: one entry point for 1 process or ``torchrun --nproc_per_node N``.

torchrun sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; without them everything here is a no-op
and the run is a plain single-process one. Backends: NCCL on CUDA, gloo on CPU. Only rank 0 logs
and writes files (see :func:`is_main`).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator

import torch
import torch.distributed as dist

from flanlab.errors import unknown

PARALLEL = ("ddp", "fsdp")


def rank() -> int:
    return int(os.environ.get("RANK", 0))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", 1))


def is_main() -> bool:
    """True on the process that logs and writes (rank 0, or the only process)."""
    return rank() == 0


def device_for(requested: str = "auto") -> torch.device:
    """``auto``: this process's GPU (``LOCAL_RANK``) when CUDA is available, else the CPU."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device(requested)


def setup(device: torch.device) -> bool:
    """Join the process group torchrun describes; return whether the run is distributed."""
    if world_size() <= 1:
        return False
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return True


def teardown() -> None:
    """Leave the process group cleanly (the barrier avoids gloo's occasional abort at exit)."""
    if dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def wrap(module: torch.nn.Module, parallel: str, device: torch.device) -> torch.nn.Module:
    """DDP (replicated weights) or FSDP2 ``fully_shard`` (sharded per transformer block) when distributed."""
    if parallel not in PARALLEL:
        raise unknown("parallel strategy", parallel, PARALLEL, key="train.parallel")
    if not dist.is_initialized():
        return module
    if parallel == "ddp":
        ids = [device.index] if device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)
    from torch.distributed.fsdp import fully_shard

    block_names = set(getattr(module.model, "_no_split_modules", None) or ())
    for sub in module.modules():
        if type(sub).__name__ in block_names:
            fully_shard(sub)
    return fully_shard(module)


@contextlib.contextmanager
def grad_sync(module: torch.nn.Module, enabled: bool) -> Iterator[None]:
    """Skip the gradient all-reduce on all but the last micro-batch of an accumulated step."""
    if enabled or not dist.is_initialized():
        yield
    elif isinstance(module, torch.nn.parallel.DistributedDataParallel):
        with module.no_sync():
            yield
    elif hasattr(module, "set_requires_gradient_sync"):  # FSDP2
        module.set_requires_gradient_sync(False)
        try:
            yield
        finally:
            module.set_requires_gradient_sync(True)
    else:
        yield


def all_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum floats over all processes (identity when not distributed)."""
    if not dist.is_initialized():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def gather_objects(obj: object) -> list[object]:
    """Every rank's ``obj``, in rank order (``[obj]`` when not distributed)."""
    if not dist.is_initialized():
        return [obj]
    out: list[object] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out
