"""Instruction–response sources as catalogue entries: read records (local JSON, JSONL or Parquet, or a hub id
through ``datasets``), convert them (:mod:`.formats`), split them, and serve them as a one-task catalogue.

An entry of ``tasks.include`` (docs/cot.md)::

    {source: dolly, path: data/dolly.jsonl}       # a known source (flanlab/tasks/instruct/sources.py), local copy
    {source: alpaca}                              # the same from the hub (needs hub access)
    {format: sharegpt, path: chats.json, name: my_chats, cluster: chat, turns: every}

Keys: ``source`` or ``format``; ``path`` (else the source's hub id, or ``hub``); ``name`` (task, default the source
or file stem); ``cluster`` (default: the name, a cluster of its own); ``fields`` (raw field names); ``turns``
(``first`` | ``every``, conversations); ``no_template`` (``context`` | ``response_only``); ``eval_fraction`` (0.1);
``max_rows``; ``metric`` (``rouge_l``). The split is a seeded shuffle fixed by the task name.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from flanlab.errors import ConfigError, DataError
from flanlab.tasks.catalogue import LocalCatalogue
from flanlab.tasks.instruct.formats import convert
from flanlab.tasks.instruct.sources import KNOWN, Source
from flanlab.tasks.spec import TaskSpec, Template

NO_TEMPLATE_MODES = ("context", "response_only")
KEYS = {"source", "format", "path", "hub", "hub_split", "name", "cluster", "fields", "turns", "no_template",
        "eval_fraction", "max_rows", "metric", "display_name"}


def read_records(path: Path) -> list[dict[str, Any]]:
    """Records of a local ``.json`` (a list, or ``{"data": [...]}``), ``.jsonl`` or ``.parquet`` file."""
    if not path.is_file():
        raise DataError(f"instruction-response file {str(path)!r} does not exist")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    text = path.read_text()
    if path.suffix == ".jsonl":
        try:
            return [json.loads(line) for line in text.split("\n") if line.strip()]
        except json.JSONDecodeError as err:
            raise DataError(f"{str(path)!r} is not JSON lines ({err.msg})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{str(path)!r} is not JSON ({err.msg})") from None
    data = data.get("data", data) if isinstance(data, dict) else data
    if not isinstance(data, list):
        raise DataError(f"{str(path)!r} must hold a list of records (or {{\"data\": [...]}})")
    return data


def hub_records(hub: str, split: str) -> list[dict[str, Any]]:
    """Records of a hub dataset through ``datasets`` (fails at once offline, one line)."""
    import datasets

    try:
        return datasets.load_dataset(hub, split=split).to_list()
    except Exception as err:  # any loading failure is one line for the user
        raise DataError(f"could not load hub dataset {hub!r} split {split!r} ({type(err).__name__}); without hub "
                        "access give a local `path` (docs/cot.md)") from None


def _source(entry: Mapping[str, Any]) -> Source:
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise ConfigError(f"instruction-response entry {dict(entry)} has unknown keys {unknown} (docs/cot.md)")
    if "source" in entry:
        if entry["source"] not in KNOWN:
            raise ConfigError(f"unknown instruction-response source {entry['source']!r}; known: {sorted(KNOWN)}")
        return KNOWN[entry["source"]]
    if "format" not in entry or not (entry.get("path") or entry.get("hub")):
        raise ConfigError(f"instruction-response entry {dict(entry)} needs `source`, or `format` with `path` or `hub`")
    name = str(entry.get("name") or Path(str(entry.get("path") or entry["hub"])).stem)
    return Source(name, str(entry["format"]), str(entry.get("display_name") or name))


def split_rows(rows: list[dict], name: str, eval_fraction: float) -> dict[str, list[dict]]:
    """A seeded shuffle fixed by ``name``; the first ``eval_fraction`` (at least one row) is ``validation``."""
    if len(rows) < 2:
        raise DataError(f"instruction-response task {name!r} has {len(rows)} usable rows; it needs at least 2")
    order = np.random.default_rng(zlib.crc32(name.encode())).permutation(len(rows)).tolist()
    n_eval = min(max(1, round(eval_fraction * len(rows))), len(rows) - 1)
    return {"validation": [rows[i] for i in order[:n_eval]], "train": [rows[i] for i in order[n_eval:]]}


def instruct_spec(name: str, cluster: str, source: Source, no_template: str, metric: str) -> TaskSpec:
    """A generation task whose one template is the row's own instruction (with its context)."""
    return TaskSpec(name=name, cluster=cluster, display_name=source.display_name, kind="generation",
                    input_fields=("context",), templates=(Template("own", "{prompt}"),), metric=metric,
                    target_field="response", description=source.description, optional_fields=("context",),
                    metadata={"source": source.name, "format": source.format, "no_template": no_template,
                           "instruction_response": True})


def load_instruct(entry: Mapping[str, Any]) -> LocalCatalogue:
    """One instruction-response entry of ``tasks.include`` as a one-task catalogue."""
    source = _source(entry)
    name = str(entry.get("name") or source.name)
    mode = str(entry.get("no_template", "context"))
    if mode not in NO_TEMPLATE_MODES:
        raise ConfigError(f"`no_template` of {name!r} must be one of {', '.join(NO_TEMPLATE_MODES)}, got {mode!r}")
    path = entry.get("path")
    records = read_records(Path(path)) if path else hub_records(str(entry.get("hub") or source.hub),
                                                               str(entry.get("hub_split", source.hub_split)))
    fields = {**source.fields, **dict(entry.get("fields") or {})}
    rows = convert(source.format, records, fields, str(entry.get("turns", "first")))
    if entry.get("max_rows"):
        rows = rows[: int(entry["max_rows"])]
    spec = instruct_spec(name, str(entry.get("cluster") or name), source, mode, str(entry.get("metric", "rouge_l")))
    splits = split_rows(rows, name, float(entry.get("eval_fraction", 0.1)))
    return LocalCatalogue({name: (spec, splits)}, source=f"instruction-response {path or source.hub}")
