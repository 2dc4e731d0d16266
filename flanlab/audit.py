"""Leakage audit for one cell: does any held-out example reach the training mixture?

Two checks over the rows' own text (their input fields joined, before any template, so shared
instruction wording is not mistaken for leakage):

* exact duplicates by normalised-text hash: a held-out row whose text equals a training row's;
* the 13-gram overlap rate: the share of held-out rows that share any word 13-gram with any
  training row (the contamination test of GPT-3 and FLAN).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import datasets

from flanlab.errors import DataError
from flanlab.splits import Split
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.spec import TaskSpec

log = logging.getLogger(__name__)
NGRAM = 13
_NON_WORD = re.compile(r"[^\w\s]")


def normalize_text(text: str) -> str:
    """Lower-case, drop punctuation, squeeze whitespace."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def row_text(spec: TaskSpec, row: Mapping[str, Any]) -> str:
    return normalize_text(" ".join(str(row[f]) for f in spec.input_fields))


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    words = text.split()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def leakage_audit(
    catalogue: Catalogue, split: Split, train_rows: Mapping[str, int], heldout_rows: Mapping[str, datasets.Dataset],
    *, removed_tasks: Iterable[str] = (), n: int = NGRAM, max_listed: int = 20,
) -> dict[str, Any]:
    """Audit the cell; ``train_rows`` maps each training task to the rows it contributed (the first N)."""
    train_hashes: dict[str, str] = {}
    train_grams: set[tuple[str, ...]] = set()
    for task, count in train_rows.items():
        spec = catalogue.spec(task)
        for row in catalogue.train_data(task).select(range(count)):
            text = row_text(spec, row)
            train_hashes.setdefault(text_hash(text), task)
            train_grams |= ngrams(text, n)
    duplicates, overlapping, total = [], 0, 0
    for task, rows in heldout_rows.items():
        spec = catalogue.spec(task)
        for i, row in enumerate(rows):
            text = row_text(spec, row)
            total += 1
            source = train_hashes.get(text_hash(text))
            if source is not None:
                duplicates.append({"heldout_task": task, "row": i, "train_task": source, "text": text[:200]})
            if train_grams and ngrams(text, n) & train_grams:
                overlapping += 1
    return {
        "train_tasks": {t: catalogue.spec(t).cluster for t in train_rows},
        "heldout_tasks": {t: catalogue.spec(t).cluster for t in heldout_rows},
        "removed_clusters": dict(split.removed),
        "removed_tasks": list(removed_tasks),
        "heldout_examples": total,
        "exact_duplicates": len(duplicates),
        "duplicate_examples": duplicates[:max_listed],
        "ngram_n": n,
        "ngram_overlap_rate": overlapping / total if total else 0.0,
    }


def enforce(report: Mapping[str, Any], on_leak: str) -> None:
    """Stop the cell (``on_leak=error``) or warn (``warn``) when a held-out row is in the training data."""
    if report["exact_duplicates"] == 0:
        return
    first = report["duplicate_examples"][0]
    message = (f"{report['exact_duplicates']} held-out example(s) also appear in the training mixture, e.g. "
               f"{first['heldout_task']} row {first['row']} = a row of {first['train_task']} "
               "(config key `data.on_leak`)")
    if on_leak == "error":
        raise DataError(message)
    log.warning(message)
