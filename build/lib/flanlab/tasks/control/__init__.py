"""The positive-control suite (``tasks=control``): tasks on shared scenes, where only the instruction says
what is asked. See :mod:`.tasks` for the clusters and :mod:`.lexicon` for the scenes.

``build_control(seed, train_rows, eval_rows)`` returns every task's spec with its ``train``, ``validation`` and
``dev`` rows. All tasks draw their rows from one scene pool per split, in pool order, skipping the scenes a row
cannot use (e.g. a scene without a colour for ``recall_colour``), so tasks share most of their inputs.
Validation and dev scenes are distinct, and no training scene equals one of them. Balanced tasks get an exactly
balanced, shuffled label sequence.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

from flanlab.tasks.control.lexicon import Scene, draw_pool
from flanlab.tasks.control.tasks import ControlTask, control_tasks
from flanlab.tasks.spec import TaskSpec

SPLITS = ("validation", "dev", "train")
POOL_FACTOR = 4  # scenes per row in a pool: a balanced task may skip three scenes in four


def split_pools(seed: int, train_rows: int, eval_rows: int) -> dict[str, list[Scene]]:
    """The scene pool of each split: eval scenes all distinct, train scenes disjoint from them."""
    rng = random.Random(seed * 7919 + 17)
    held: set[str] = set()
    pools = {split: draw_pool(rng, POOL_FACTOR * eval_rows, held, distinct=True) for split in ("validation", "dev")}
    pools["train"] = draw_pool(rng, POOL_FACTOR * train_rows, held, distinct=False)
    return pools


def task_rows(task: ControlTask, pool: list[Scene], count: int, seed: int, split: str) -> list[dict[str, Any]]:
    """``count`` rows from ``pool`` in order (one cursor per label value, so rows of a label keep pool order)."""
    rng = random.Random((seed << 32) ^ zlib.crc32(f"{task.spec.name}/{split}".encode()))
    labels = [i % task.labels for i in range(count)]
    rng.shuffle(labels)
    cursors = [0] * task.labels
    rows = []
    for label in labels:
        at = cursors[label]
        while not task.accepts(pool[at % len(pool)], label):
            at += 1
        cursors[label] = at + 1
        rows.append(task.make_row(pool[at % len(pool)], label, rng))
    return rows


def build_control(seed: int = 0, train_rows: int = 2000,
                  eval_rows: int = 200) -> list[tuple[TaskSpec, dict[str, list[dict[str, Any]]]]]:
    """Every task's spec and rows per split, deterministic for ``seed``."""
    pools = split_pools(seed, train_rows, eval_rows)
    counts = {"train": train_rows, "validation": eval_rows, "dev": eval_rows}
    return [(t.spec, {s: task_rows(t, pools[s], counts[s], seed, s) for s in SPLITS}) for t in control_tasks()]


__all__ = ["build_control", "control_tasks", "split_pools"]
