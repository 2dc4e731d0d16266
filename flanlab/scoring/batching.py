"""The scoring request batcher: group requests by context, longest first, restore input order.

Requests that share a context form a *group*; groups are ordered longest first (so the first
batch is the largest and any out-of-memory error shows up at once) and packed into batches of at
most ``batch_size`` sequences. ``run`` calls a batch function over the batches, halves the batch
size and retries whenever that function raises ``torch.OutOfMemoryError``, and returns the
results in the requests' original order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Group:
    """Original indices of the requests that share one context."""

    context: Hashable
    indices: tuple[int, ...]
    length: int


class RequestBatcher(Generic[T]):
    """Orders requests for batched scoring and puts results back in input order."""

    def __init__(self, contexts: Sequence[Hashable], lengths: Sequence[int]) -> None:
        if len(contexts) != len(lengths):
            raise ValueError(f"{len(contexts)} contexts but {len(lengths)} lengths")
        members: dict[Hashable, list[int]] = {}
        for i, ctx in enumerate(contexts):
            members.setdefault(ctx, []).append(i)
        groups = [Group(ctx, tuple(idx), max(lengths[i] for i in idx)) for ctx, idx in members.items()]
        # Longest first; Python's sort is stable, so ties keep first-appearance order.
        self.groups: list[Group] = sorted(groups, key=lambda g: -g.length)
        self.size = len(contexts)
        self.batch_size: int | None = None

    def batches(self, batch_size: int, start: int = 0) -> Iterator[tuple[int, list[Group]]]:
        """``(next_start, groups)`` batches holding at most ``batch_size`` requests (one oversized group alone)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        i = start
        while i < len(self.groups):
            batch, rows = [self.groups[i]], len(self.groups[i].indices)
            i += 1
            while i < len(self.groups) and rows + len(self.groups[i].indices) <= batch_size:
                rows += len(self.groups[i].indices)
                batch.append(self.groups[i])
                i += 1
            yield i, batch

    def run(self, fn: Callable[[list[Group]], dict[int, T]], batch_size: int,
            on_batch: Callable[[int], object] | None = None) -> list[T]:
        """Apply ``fn`` to every batch (it maps original index -> result); halve the batch on OOM.
        ``on_batch(n)`` is told how many groups each finished batch held (a progress bar's update)."""
        out: dict[int, T] = {}
        start, size = 0, batch_size
        while start < len(self.groups):
            for next_start, batch in self.batches(size, start):
                try:
                    out |= fn(batch)
                except torch.OutOfMemoryError:
                    if size == 1:
                        raise
                    size = self.batch_size = max(size // 2, 1)
                    log.warning("out of memory: scoring batch size halved to %d", size)
                    break
                if on_batch is not None:
                    on_batch(len(batch))
                start = next_start
        self.batch_size = size
        missing = self.size - len(out)
        if missing:
            raise RuntimeError(f"batch function returned no result for {missing} request(s)")
        return [out[i] for i in range(self.size)]
