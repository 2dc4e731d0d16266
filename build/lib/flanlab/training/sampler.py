"""Which rows make each global batch: ``random`` or length-``bucketed`` order, resumable exactly.

An epoch's batches are a pure function of ``(seed, epoch)``, so the sampler's whole state is
``(epoch, cursor)``: a checkpoint stores those two numbers and a resumed run draws the very same
batches. ``bucketed`` shuffles the rows, cuts the shuffled order into pools of ``pool_batches``
batches, sorts each pool by length, cuts it into batches and shuffles the batch order: batches hold
rows of similar length (little padding) while the epoch still visits rows in random order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from flanlab.errors import unknown

MODES = ("random", "bucketed", "packed")


class BatchSampler:
    """Endless global batches of row indices (every batch has exactly ``batch_size`` rows)."""

    def __init__(self, sort_keys: Sequence[tuple[int, ...]], batch_size: int, seed: int, mode: str = "random",
                 pool_batches: int = 64) -> None:
        if mode not in MODES:
            raise unknown("batching mode", mode, MODES, key="train.batching")
        self.keys, self.batch_size, self.seed = list(sort_keys), batch_size, seed
        self.bucketed = mode == "bucketed"
        self.pool = max(1, pool_batches) * batch_size
        self.epoch, self.cursor = 0, 0
        self._batches = self._plan(0)

    def _plan(self, epoch: int) -> list[list[int]]:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        n, size = len(self.keys), self.batch_size
        order = torch.randperm(n, generator=gen).tolist()
        if n < size:  # fewer rows than a batch: repeat them
            order = (order * (size // max(n, 1) + 1))[:size]
        if self.bucketed:
            starts = range(0, len(order), self.pool)
            pools = [sorted(order[i : i + self.pool], key=self.keys.__getitem__) for i in starts]
            order = [i for pool in pools for i in pool]
        batches = [order[i : i + size] for i in range(0, len(order) - size + 1, size)]
        if self.bucketed:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=gen).tolist()]
        return batches

    def __iter__(self) -> BatchSampler:
        return self

    def __next__(self) -> list[int]:
        if self.cursor >= len(self._batches):
            self.epoch, self.cursor = self.epoch + 1, 0
            self._batches = self._plan(self.epoch)
        batch = self._batches[self.cursor]
        self.cursor += 1
        return batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._batches = self._plan(self.epoch)


def sort_key(arch: str, input_ids: Sequence[int], labels: Sequence[int]) -> tuple[int, ...]:
    """Bucketing key: seq2seq groups by target then input length (both sides are padded); causal by length."""
    return (len(labels), len(input_ids)) if arch == "seq2seq" else (len(input_ids),)
