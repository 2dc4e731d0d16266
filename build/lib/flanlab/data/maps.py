"""``datasets.map`` for the per-run transforms (rendering, tokenising): computed in memory, never fingerprinted.

``datasets`` names a map's result by hashing the function with dill, closure included. A closure that holds
a real tokenizer (Gemma's has 262k entries) takes minutes to hash, once per task, for a result that is
cheap to recompute and never reused across runs. These maps pass their own fingerprint instead and keep
the result in memory, so nothing is hashed and no stale cache file can be picked up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import datasets


def fresh_map(rows: datasets.Dataset, fn: Callable, **kwargs) -> datasets.Dataset:
    """``rows.map(fn, **kwargs)`` without hashing ``fn``: in memory, under a fresh fingerprint."""
    return rows.map(fn, new_fingerprint=uuid.uuid4().hex, load_from_cache_file=False, keep_in_memory=True, **kwargs)
