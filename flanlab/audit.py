"""Leakage audit for one cell: does any scored row reach the training mixture?

Scored rows are the held-out evaluation rows and the dev rows that pick the best-dev template. Each
is compared with every training row of every training task (pooled, so a copy of a held-out dataset
placed in another cluster, e.g. through ``tasks.include``, is found). Rows are compared by their own
text, before any template, so shared instruction wording is not mistaken for leakage:

* **exact duplicates**: the normalised input fields equal a training row's;
* **near-duplicates**: the word 3-shingle Jaccard similarity of the row's text (input fields,
  options and references) with a training row's reaches ``near_dup_threshold``. An inverted index
  with prefix filtering (only the rarest shingles of a row fetch candidates) keeps this fast;
* **13-gram overlap**: a row sharing any word 13-gram with a training row (the contamination test
  of GPT-3 and FLAN). It counts as a leak where rows are long enough for a shared 13-gram to mean
  copied text: a held-out task whose share of rows of at least ``ngram_min_words`` words with an
  overlap exceeds ``ngram_overlap_max``. Shorter rows are reported (``ngram_overlap_rate``), not enforced.

``leakage_audit.json`` has one block per held-out task in ``per_task``: rows checked (held-out and dev),
exact and near duplicates, the highest Jaccard with any training row and that row's task (exact from
``JACCARD_FLOOR`` = 0.5 up; 0.0 means no training row came that close), and the 13-gram counts.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets

from flanlab.errors import ConfigError, DataError, unknown
from flanlab.splits import Split
from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.spec import TaskSpec

log = logging.getLogger(__name__)
NGRAM = 13
SHINGLE = 3
NEAR_DUP_THRESHOLD = 0.85
NGRAM_MIN_WORDS = 50
NGRAM_OVERLAP_MAX = 0.0
JACCARD_FLOOR = 0.5  # ``max_jaccard`` is exact from here up (the index searches this far even above the threshold)
LEAK_POLICIES = ("error", "warn")
_NON_WORD = re.compile(r"[^\w\s]")


def normalize_text(text: str) -> str:
    """Lower-case, drop punctuation, squeeze whitespace."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def row_text(spec: TaskSpec, row: Mapping[str, Any]) -> str:
    """The row's input fields, joined and normalised (what exact duplicates compare)."""
    return normalize_text(" ".join(str(row[f]) for f in spec.input_fields))


def full_text(spec: TaskSpec, row: Mapping[str, Any]) -> str:
    """The row's input fields, its options and its references, normalised (what near-duplicates compare)."""
    parts = [str(row[f]) for f in spec.input_fields]
    parts += list(spec.row_options(row) or ())
    parts += list(spec.references(row))
    return normalize_text(" ".join(parts))


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    words = text.split()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    """Word ``k``-shingles of a normalised text; a text shorter than ``k`` words is one shingle."""
    words = text.split()
    if len(words) < k:
        return {text} if text else set()
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


@dataclass
class ScoredRow:
    """One held-out or dev row, ready to look up."""

    task: str
    role: str  # "heldout" or "dev"
    index: int
    input_hash: str
    text: str
    shingles: set[str]
    grams: set[tuple[str, ...]]
    words: int


@dataclass
class TrainIndex:
    """The training rows, kept only as far as the scored rows can match them.

    ``postings`` maps a shingle of some scored row to the training rows holding it; ``sets`` holds
    each training row's shingles that some scored row also has, and ``sizes`` its full shingle count.
    """

    hashes: dict[str, tuple[str, int]] = field(default_factory=dict)
    postings: dict[str, list[int]] = field(default_factory=dict)
    sets: list[frozenset[str]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    origin: list[tuple[str, int]] = field(default_factory=list)
    grams: dict[tuple[str, ...], set[str]] = field(default_factory=dict)  # n-gram -> the training tasks holding it
    rows: int = 0

    def add(self, task: str, index: int, input_text: str, text: str, vocab: set[str],
            gram_vocab: set[tuple[str, ...]], n: int) -> None:
        """Index one training row (``index`` is its position in ``catalogue.train_data(task)``)."""
        self.rows += 1
        self.hashes.setdefault(text_hash(input_text), (task, index))
        for gram in ngrams(text, n) & gram_vocab:
            self.grams.setdefault(gram, set()).add(task)
        own = shingles(text)
        kept = frozenset(own & vocab)
        if not kept:
            return
        row_id = len(self.sets)
        self.sets.append(kept)
        self.sizes.append(len(own))
        self.origin.append((task, index))
        for s in kept:
            self.postings.setdefault(s, []).append(row_id)

    def best_match(self, row: ScoredRow, threshold: float) -> tuple[float, int | None]:
        """The highest Jaccard with a training row among the candidates the prefix filter allows.

        Exact at or above ``threshold``: a pair with Jaccard >= t shares >= ceil(t*|A|) shingles, so
        it shares one of the row's |A| - ceil(t*|A|) + 1 rarest shingles.
        """
        a = row.shingles
        if not a:
            return 0.0, None
        need = max(1, math.ceil(threshold * len(a) - 1e-9))
        prefix = sorted(a, key=lambda s: (len(self.postings.get(s, ())), s))[: len(a) - need + 1]
        candidates = {c for s in prefix for c in self.postings.get(s, ())}
        best, best_id = 0.0, None
        for c in candidates:
            inter = len(a & self.sets[c])
            score = inter / (len(a) + self.sizes[c] - inter)
            if score > best:
                best, best_id = score, c
        return best, best_id


def _indices(rows: int | Sequence[int], available: int) -> Sequence[int]:
    """Row indices that trained: the first N (an int, the old ``rows_per_task``) or the listed ones."""
    return range(min(int(rows), available)) if isinstance(rows, int) else list(rows)


def _scored_rows(catalogue: Catalogue, rows: Mapping[str, datasets.Dataset], role: str, n: int) -> list[ScoredRow]:
    out = []
    for task, data in rows.items():
        spec = catalogue.spec(task)
        for i, row in enumerate(data):
            text = full_text(spec, row)
            out.append(ScoredRow(task, role, i, text_hash(row_text(spec, row)), text, shingles(text),
                                 ngrams(text, n), len(text.split())))
    return out


def build_index(catalogue: Catalogue, train_rows: Mapping[str, int | Sequence[int]], scored: list[ScoredRow],
                n: int = NGRAM) -> TrainIndex:
    """Index every training row of every training task against the scored rows' shingles and n-grams."""
    vocab = set().union(*(r.shingles for r in scored)) if scored else set()
    gram_vocab = set().union(*(r.grams for r in scored)) if scored else set()
    index = TrainIndex()
    for task, rows in train_rows.items():
        spec = catalogue.spec(task)
        data = catalogue.train_data(task)
        picked = _indices(rows, len(data))
        for i, row in zip(picked, data.select(picked), strict=True):
            index.add(task, int(i), row_text(spec, row), full_text(spec, row), vocab, gram_vocab, n)
    return index


def _task_block(cluster: str) -> dict[str, Any]:
    return {"cluster": cluster, "rows_checked": 0, "heldout_rows": 0, "dev_rows": 0, "exact_duplicates": 0,
            "near_duplicates": 0, "max_jaccard": 0.0, "max_jaccard_train_task": None,
            "ngram_rows_checked": 0, "ngram_overlaps": 0, "ngram_overlap_share": 0.0}


def _check_thresholds(near_dup_threshold: float, ngram_overlap_max: float) -> None:
    if not 0.0 < near_dup_threshold <= 1.0:
        raise ConfigError(f"data.near_dup_threshold must be in (0, 1], got {near_dup_threshold}")
    if not 0.0 <= ngram_overlap_max <= 1.0:
        raise ConfigError(f"data.ngram_overlap_max must be in [0, 1], got {ngram_overlap_max}")


def _compare(index: TrainIndex, scored: list[ScoredRow], per_task: dict[str, dict[str, Any]], threshold: float,
             min_words: int, allowed: frozenset[str] = frozenset()) -> tuple[list[dict[str, Any]],
                                                                          list[dict[str, Any]], int]:
    """Fill ``per_task``; return the exact and near duplicates found, and the held-out rows with a shared n-gram.
    A duplicate of a row of the scored task's *own* train split, for a task in ``allowed``, is counted apart
    (``allowed_exact``, ``allowed_near``) and is not a leak."""
    exact, near, heldout_overlaps = [], [], 0
    for row in scored:
        block = per_task[row.task]
        block["rows_checked"] += 1
        block[f"{row.role}_rows"] += 1
        score, match = index.best_match(row, min(threshold, JACCARD_FLOOR))
        if score > block["max_jaccard"]:
            block["max_jaccard"], block["max_jaccard_train_task"] = round(score, 4), index.origin[match][0]
        entry = {"heldout_task": row.task, "row": row.index, "role": row.role}
        source = index.hashes.get(row.input_hash)
        if source is not None and source[0] == row.task and row.task in allowed:
            block["allowed_exact"] = block.get("allowed_exact", 0) + 1
        elif source is not None:
            block["exact_duplicates"] += 1
            exact.append({**entry, "train_task": source[0], "train_row": source[1], "text": row.text[:200]})
        elif score >= threshold and match is not None and index.origin[match][0] == row.task and row.task in allowed:
            block["allowed_near"] = block.get("allowed_near", 0) + 1
        elif score >= threshold and match is not None:
            block["near_duplicates"] += 1
            near.append({**entry, "train_task": index.origin[match][0], "train_row": index.origin[match][1],
                         "jaccard": round(score, 4), "text": row.text[:200]})
        owners = set().union(*(index.grams[g] for g in row.grams if g in index.grams))
        shared = bool(owners - {row.task}) if row.task in allowed else bool(owners)
        if owners and not shared:
            block["allowed_ngram"] = block.get("allowed_ngram", 0) + 1
        heldout_overlaps += shared and row.role == "heldout"
        if row.words >= min_words:
            block["ngram_rows_checked"] += 1
            block["ngram_overlaps"] += shared
    for block in per_task.values():
        if block["ngram_rows_checked"]:
            block["ngram_overlap_share"] = block["ngram_overlaps"] / block["ngram_rows_checked"]
    return exact, near, heldout_overlaps


def leak_reasons(report: Mapping[str, Any]) -> list[str]:
    """One short sentence per kind of leak the report shows (empty: clean)."""
    out = []
    if report["exact_duplicates"]:
        d = report["duplicate_examples"][0]
        role = d.get("role", "heldout")
        out.append(f"{report['exact_duplicates']} exact duplicate(s), e.g. {d['heldout_task']} {role} row {d['row']} "
                   f"= a row of {d['train_task']}")
    if report.get("near_duplicates"):
        d = report["near_duplicate_examples"][0]
        out.append(f"{report['near_duplicates']} near-duplicate(s) (Jaccard >= {report['near_dup_threshold']}), e.g. "
                   f"{d['heldout_task']} {d['role']} row {d['row']} ~ {d['train_task']} row {d['train_row']} "
                   f"(Jaccard {d['jaccard']:.2f})")
    limit = report.get("ngram_overlap_max", NGRAM_OVERLAP_MAX)
    for task, b in report.get("per_task", {}).items():
        if b["ngram_rows_checked"] and b["ngram_overlap_share"] > limit:
            out.append(f"task {task}: {b['ngram_overlaps']} of {b['ngram_rows_checked']} rows of >= "
                       f"{report['ngram_min_words']} words share a {report['ngram_n']}-gram with training "
                       f"(share {b['ngram_overlap_share']:.3f} > data.ngram_overlap_max={limit})")
    return out


def leakage_audit(
    catalogue: Catalogue, split: Split, train_rows: Mapping[str, int | Sequence[int]],
    heldout_rows: Mapping[str, datasets.Dataset], *, dev_rows: Mapping[str, datasets.Dataset] | None = None,
    removed_tasks: Iterable[str] = (), n: int = NGRAM, near_dup_threshold: float = NEAR_DUP_THRESHOLD,
    ngram_overlap_max: float = NGRAM_OVERLAP_MAX, ngram_min_words: int = NGRAM_MIN_WORDS, max_listed: int = 20,
    allowed: Iterable[str] = (),
) -> dict[str, Any]:
    """Audit the cell: held-out (and dev) rows against every training row, per held-out task.

    ``train_rows`` maps each training task to the rows that trained: a count (the first N rows of
    ``catalogue.train_data(task)``) or a list of row indices into it (``Mixture.row_indices``). ``allowed``: tasks
    that train on their own train split by design (the oracle's held-out tasks); a scored row that recurs in its
    own task's train split is then reported under ``allowed_by_design``, not as a leak. Matches with any other
    training task still are.
    """
    _check_thresholds(near_dup_threshold, ngram_overlap_max)
    scored = _scored_rows(catalogue, heldout_rows, "heldout", n) + _scored_rows(catalogue, dev_rows or {}, "dev", n)
    index = build_index(catalogue, train_rows, scored, n)
    per_task = {t: _task_block(catalogue.spec(t).cluster) for t in [*heldout_rows, *(dev_rows or {})]}
    allowed = frozenset(allowed)
    exact, near, heldout_overlaps = _compare(index, scored, per_task, near_dup_threshold, ngram_min_words, allowed)
    total = sum(1 for r in scored if r.role == "heldout")
    report = {
        "train_tasks": {t: catalogue.spec(t).cluster for t in train_rows},
        "heldout_tasks": {t: catalogue.spec(t).cluster for t in heldout_rows},
        "removed_clusters": dict(split.removed),
        "removed_tasks": list(removed_tasks),
        "train_examples": index.rows,
        "heldout_examples": total,
        "dev_examples": len(scored) - total,
        "exact_duplicates": len(exact),
        "duplicate_examples": exact[:max_listed],
        "near_dup_threshold": near_dup_threshold,
        "near_duplicates": len(near),
        "near_duplicate_examples": sorted(near, key=lambda d: -d["jaccard"])[:max_listed],
        "ngram_n": n,
        "ngram_overlap_rate": heldout_overlaps / total if total else 0.0,
        "ngram_min_words": ngram_min_words,
        "ngram_overlap_max": ngram_overlap_max,
        "per_task": per_task,
    }
    if allowed:
        report["allowed_by_design"] = {
            "tasks": sorted(allowed),
            "exact": sum(b.get("allowed_exact", 0) for b in per_task.values()),
            "near": sum(b.get("allowed_near", 0) for b in per_task.values()),
            "ngram": sum(b.get("allowed_ngram", 0) for b in per_task.values()),
            "why": ("the oracle trains on these held-out tasks' train splits; a scored row that recurs in its own "
                    "task's train split is the dataset's own repetition, not a leak (its dev rows, where it has no "
                    "dev split, are left out of its training draw)")}
    report["leaks"] = leak_reasons(report)
    return report


def enforce(report: Mapping[str, Any], on_leak: str) -> None:
    """Stop the cell (``on_leak=error``) or warn (``warn``) when a scored row leaks into the training data."""
    if on_leak not in LEAK_POLICIES:
        raise unknown("leak policy", on_leak, LEAK_POLICIES, key="data.on_leak")
    reasons = report["leaks"] if "leaks" in report else leak_reasons(report)
    if not reasons:
        return
    message = (f"held-out rows reach the training mixture: {'; '.join(reasons[:3])}"
               f"{f'; and {len(reasons) - 3} more' if len(reasons) > 3 else ''} "
               "(see leakage_audit.json; config key `data.on_leak`)")
    if on_leak == "error":
        raise DataError(message)
    log.warning(message)
