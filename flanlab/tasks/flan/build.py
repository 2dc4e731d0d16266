"""Helpers that keep the FLAN catalogue modules short: feature shorthands and hub-entry constructors over
:mod:`flanlab.tasks.declare` (the modules take ``tpl`` and ``inv`` from there).

Every entry names where its rows live on today's hub (a ``Hub``: namespaced repository id, config, and where
needed a pinned ``revision`` and ``data_dir``, e.g. the hub's parquet conversion of a script-only repository), the
raw row schema the hub serves (``hub_features``, a ``datasets.Features``), the splits, and an optional
``preprocess`` that maps one raw row to the fields its templates read. Classification options are listed in label
order, so a row's ``label`` (after ``preprocess``) indexes its answer. ``hub_manifest.json`` beside these modules
records the hub's own facts and the evidence for each entry (``flanlab.tasks.flan.manifest``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from datasets import ClassLabel, Features, List, Translation, Value

from flanlab.tasks.declare import classification, generation
from flanlab.tasks.spec import TaskSpec, Template

STR = Value("string")
I32 = Value("int32")
I64 = Value("int64")
F32 = Value("float32")
BOOL = Value("bool")
STRS = List(Value("string"))
INTS = List(Value("int32"))

Row = Mapping[str, Any]
Preprocess = Callable[[Row], dict[str, Any]]
# The task type FLAN wrote before each dataset's name under the dataset-name variant ("[Translation: WMT 14 to
# French]"), by cluster; the words are this project's.
TASK_TYPES = {
    "nli": "Natural language inference", "paraphrase": "Paraphrase detection", "sentiment": "Sentiment analysis",
    "coreference": "Coreference resolution", "reading_comprehension": "Reading comprehension",
    "commonsense": "Commonsense reasoning",
    "reading_comprehension_with_commonsense": "Commonsense reading comprehension",
    "closed_book_qa": "Closed-book question answering", "struct_to_text": "Data to text",
    "translation": "Translation", "summarization": "Summarization", "misc": "Miscellaneous",
}
# The hub's automatic parquet conversion of a repository (for repositories whose main branch holds only a loading
# script, which datasets >= 4 refuses). It has no dataset card, so configs are chosen by ``data_dir``.
PARQUET_BRANCH = "refs/convert/parquet"


@dataclass(frozen=True)
class Hub:
    """Where an entry's rows live: ``load_dataset(repo, config, revision=revision, data_dir=data_dir)``."""

    repo: str
    config: str | None = None
    revision: str | None = None
    data_dir: str | None = None


def labels(*names: str) -> ClassLabel:
    return ClassLabel(names=list(names))


def feats(**fields: Any) -> Features:
    return Features(fields)


def translation(*languages: str) -> Features:
    return Features({"translation": Translation(languages=list(languages))})


def classify(
    name: str, cluster: str, display_name: str, hub: Hub, features: Features,
    input_fields: Sequence[str], templates: Sequence[Template], *, options: Sequence[str] | None = None,
    options_field: str | None = None, preprocess: Preprocess | None = None, train: str = "train",
    eval: str = "validation", description: str = "", label_field: str = "label",
) -> TaskSpec:
    """A hub classification entry scored by rank classification (accuracy)."""
    return classification(name, cluster, display_name, input_fields, templates, options=options,
                          options_field=options_field, label_field=label_field, train_split=train, eval_split=eval,
                          description=description, preprocess=preprocess, **hub_fields(hub),
                          metadata={"hub_features": features, "task_type": TASK_TYPES[cluster]})


def generate(
    name: str, cluster: str, display_name: str, hub: Hub, features: Features,
    input_fields: Sequence[str], templates: Sequence[Template], *, target_field: str = "target",
    metric: str = "exact_match", preprocess: Preprocess | None = None, train: str = "train",
    eval: str = "validation", description: str = "",
) -> TaskSpec:
    """A hub generation entry; ``target_field`` holds the reference (or a list of them, the first trains)."""
    return generation(name, cluster, display_name, input_fields, templates, target_field=target_field, metric=metric,
                      train_split=train, eval_split=eval, description=description,
                      metadata={"hub_features": features, "task_type": TASK_TYPES[cluster]}, preprocess=preprocess,
                      **hub_fields(hub))


def hub_fields(hub: Hub) -> dict[str, str | None]:
    """The ``TaskSpec`` fields that say where the rows live."""
    return {"hub_path": hub.repo, "hub_config": hub.config, "hub_revision": hub.revision, "hub_data_dir": hub.data_dir}


def hub_features(spec: TaskSpec) -> Features | None:
    """The raw hub schema an entry declares (None for tasks that are not hub entries)."""
    return spec.metadata.get("hub_features")


def lettered(texts: Sequence[str], keys: Sequence[str], answer_key: str) -> tuple[list[str], int]:
    """Options and the label index for multiple-choice rows keyed by letters (ARC, OpenBookQA); -1 if absent."""
    options = [str(t) for t in texts]
    keys = [str(k) for k in keys]
    return options, keys.index(answer_key) if answer_key in keys else -1
