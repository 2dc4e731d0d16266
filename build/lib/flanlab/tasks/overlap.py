"""Task-level overlap: a training task that shares its data with a scored task leaves training.

Two tasks share data when they read the same hub dataset and config, or when both belong to one of the
``SHARED_SOURCES`` groups below (datasets built from the same underlying text). FLAN removed such tasks
from training; so does ``remove_overlaps``, which returns what it removed and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flanlab.tasks.spec import TaskSpec

# Underlying text -> the catalogue tasks built from it (task names, not clusters).
SHARED_SOURCES: Mapping[str, frozenset[str]] = {
    "Winograd schemas": frozenset({"wnli", "wsc273", "dpr"}),
    "SQuAD v1.1 paragraphs": frozenset({"squad_v1", "squad_v2", "qnli"}),
    "CNN/DailyMail articles": frozenset({"cnn_dailymail", "record"}),
    "Pang and Lee movie-review sentences": frozenset({"sst2", "rotten_tomatoes"}),
    "WebNLG and E2E data": frozenset({"dart", "web_nlg", "e2e_nlg"}),
}


def sources(spec: TaskSpec, shared: Mapping[str, Iterable[str]] = SHARED_SOURCES) -> set[str]:
    """The data sources a task reads: its own name, its hub dataset, and any shared-source group."""
    out = {f"task {spec.name}"}
    if spec.hub_path:
        out.add(f"hub dataset {spec.hub_path}/{spec.hub_config or 'default'}")
    out |= {group for group, names in shared.items() if spec.name in names}
    return out


def remove_overlaps(
    train: Iterable[TaskSpec], scored: Iterable[TaskSpec], shared: Mapping[str, Iterable[str]] = SHARED_SOURCES,
) -> tuple[list[str], dict[str, str]]:
    """Training task names that share no source with a scored task, and the removed ones with the reason."""
    scored_by_source: dict[str, list[str]] = {}
    for spec in scored:
        for src in sources(spec, shared):
            scored_by_source.setdefault(src, []).append(spec.name)
    kept, removed = [], {}
    for spec in train:
        hits = sorted(src for src in sources(spec, shared) if src in scored_by_source)
        if hits:
            src = hits[0]
            removed[spec.name] = f"shares {src} with scored task(s) {sorted(set(scored_by_source[src]))}"
        else:
            kept.append(spec.name)
    return kept, removed
