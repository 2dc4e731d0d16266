"""Rows of a FLAN entry from today's Hugging Face hub: the exact ``datasets.load_dataset`` call, a streamed sample for
splits far larger than their cap, and what a run will download, from the hub manifest.

A split whose manifest row count is above ``stream_above`` (and far above its cap) is not downloaded whole: it is
streamed with the hub's shards in a seeded random order and a seeded shuffle buffer, and the first ``take`` rows
are kept. That sample comes from the few shards read first, shuffled within a buffer of ``SHUFFLE_BUFFER`` rows,
so it is not a uniform sample of the split the way a full download followed by a seeded cap is
(docs/catalogue.md, "Downloads").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import datasets

from flanlab.tasks.flan.manifest import load_arguments, spec_record, split_name
from flanlab.tasks.spec import TaskSpec

log = logging.getLogger(__name__)
SHUFFLE_BUFFER = 10_000
STREAM_MARGIN = 1.2  # rows streamed per row kept: room for rows the bad-row rule drops


@dataclass(frozen=True)
class Sample:
    """Stream ``take`` rows of a split, shuffled with ``seed``, instead of downloading all of it."""

    take: int
    seed: int


def load_hub_split(spec: TaskSpec, split: str, sample: Sample | None = None) -> datasets.Dataset:
    """One split of a hub entry: ``load_dataset(repo, config, revision=..., data_dir=..., split=...)``, or a
    streamed sample of it."""
    args = load_arguments(spec, split)
    if sample is None:
        return datasets.load_dataset(**args)
    stream = datasets.load_dataset(**args, streaming=True)
    rows = list(stream.shuffle(seed=sample.seed, buffer_size=SHUFFLE_BUFFER).take(sample.take))
    log.info("%s: streamed %d rows of split %r (seed %d) instead of downloading all of it", spec.name, len(rows),
             split, sample.seed)
    return datasets.Dataset.from_list(rows, features=stream.features)


def manifest_rows(spec: TaskSpec, split: str) -> int | None:
    """The hub split's row count from the manifest (None if unknown)."""
    record = spec_record(spec)
    if record is None:
        return None
    return (record.get("splits", {}).get(split_name(split)) or {}).get("num_rows")


def stream_sample(spec: TaskSpec, split: str, cap: int | None, seed: int, stream_above: int | None) -> Sample | None:
    """A ``Sample`` when the split is over ``stream_above`` rows and at least ten times its cap, else None."""
    total = manifest_rows(spec, split)
    if cap is None or stream_above is None or total is None or "[" in split:
        return None
    if total <= stream_above or total < 10 * cap:
        return None
    return Sample(take=int(cap * STREAM_MARGIN) + 100, seed=seed)


@dataclass(frozen=True)
class Fetch:
    """What loading one split from the hub costs, as far as the manifest knows."""

    task: str
    bytes: int | None
    streamed: bool


def split_bytes(record: Mapping[str, Any], split: str) -> int | None:
    """A split's download size: the config's download size shared out by the splits' sizes (the manifest gives
    both), else the split's own size."""
    splits = record.get("splits", {})
    own = (splits.get(split) or {}).get("num_bytes")
    total = sum((s or {}).get("num_bytes") or 0 for s in splits.values())
    download = record.get("download_bytes")
    if own is None:
        return None
    return int(download * own / total) if download and total else int(own)


def fetch_plan(specs: Iterable[TaskSpec], splits_of, sample_of) -> list[Fetch]:
    """One ``Fetch`` per (task, split): ``splits_of(spec)`` lists a task's splits, ``sample_of(spec, split)`` says
    whether it is streamed (a ``Sample``) and how many rows."""
    plan = []
    for spec in specs:
        record = spec_record(spec)
        for split in splits_of(spec):
            sample = sample_of(spec, split)
            size = split_bytes(record, split_name(split)) if record is not None else None
            rows = manifest_rows(spec, split)
            if sample is not None and size is not None and rows:
                size = int(size * min(1.0, sample.take / rows))
            plan.append(Fetch(spec.name, size, sample is not None))
    return plan


def describe_plan(plan: list[Fetch]) -> str:
    """One line: how much a run reads from the hub, which splits are streamed, which sizes are unknown."""
    known = [f for f in plan if f.bytes is not None]
    unknown = sorted({f.task for f in plan if f.bytes is None})
    streamed = sorted({f.task for f in plan if f.streamed})
    text = (f"hub data for {len({f.task for f in plan})} entries: about {sum(f.bytes for f in known) / 1e6:,.0f} MB "
            f"to download (from the hub manifest's sizes)")
    if streamed:
        text += f"; streamed samples of {', '.join(streamed)}"
    if unknown:
        text += f"; size unknown for {', '.join(unknown)}"
    return text
