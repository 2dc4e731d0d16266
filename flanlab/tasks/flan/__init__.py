"""The FLAN task catalogue as data: hub datasets in twelve clusters, each with instruction templates.

``flan_specs()`` returns every entry by name, cluster by cluster. Each entry is a ``TaskSpec`` whose
``hub_path``/``hub_config`` name the Hugging Face dataset and whose ``metadata['hub_features']`` is the raw
row schema; ``flanlab.tasks.hub.HubCatalogue`` loads the rows from the hub or an offline mirror.
"""

from __future__ import annotations

from flanlab.tasks.flan import (
    closed_book_qa,
    commonsense,
    coreference,
    misc,
    nli,
    paraphrase,
    rc_commonsense,
    reading_comprehension,
    sentiment,
    struct_to_text,
    summarization,
    translation,
)
from flanlab.tasks.spec import TaskSpec

CLUSTER_MODULES = (nli, paraphrase, sentiment, coreference, reading_comprehension, commonsense, rc_commonsense,
                   closed_book_qa, struct_to_text, translation, summarization, misc)


def flan_specs() -> dict[str, TaskSpec]:
    """Every FLAN catalogue entry by name (names are unique)."""
    specs: dict[str, TaskSpec] = {}
    for module in CLUSTER_MODULES:
        for spec in module.TASKS:
            if spec.name in specs:
                raise RuntimeError(f"duplicate FLAN catalogue entry {spec.name!r}")
            specs[spec.name] = spec
    return specs


__all__ = ["CLUSTER_MODULES", "flan_specs"]
