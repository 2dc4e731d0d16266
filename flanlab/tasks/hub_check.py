"""The catalogue preflight behind ``flanlab catalogue check``: can each FLAN entry be loaded from today's hub?

Online, each entry's repository is asked (``HfApi.dataset_info``, no data downloaded) for its files and card: a
loading script with no parquet beside it, a missing config or split, a declared field the card's features lack or
type differently, a gated or missing repository each make the entry fail. Offline, every declaration is checked
against the checked-in manifest instead, and the report says plainly that the hub was not reached. ``refreshed``
turns an online answer into the entry's new manifest record (sizes, splits and features; the evidence is kept).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import datasets

from flanlab.errors import first_line
from flanlab.tasks.flan.build import PARQUET_BRANCH
from flanlab.tasks.flan.manifest import declaration_problems, split_and_field_problems
from flanlab.tasks.spec import TaskSpec

_SHARD = re.compile(r"-\d{5}-of-\d{5}$")
ENTRY_ERRORS = ("RepositoryNotFoundError", "GatedRepoError", "RevisionNotFoundError", "DisabledRepoError",
                "EntryNotFoundError", "HfHubHTTPError", "BadRequestError")


@dataclass
class HubFacts:
    """What the hub says about one entry's config: split sizes, download size, features (None where unknown)."""

    splits: dict[str, dict[str, int | None]]
    download_bytes: int | None = None
    features: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)


@dataclass
class EntryCheck:
    """One entry's verdict and the line that says it."""

    name: str
    ok: bool
    line: str
    facts: HubFacts | None = None


def offline_check(spec: TaskSpec, record: Mapping[str, Any] | None) -> EntryCheck:
    """The declaration against its manifest record."""
    problems = declaration_problems(spec, record)
    where = _where(spec)
    if problems:
        return EntryCheck(spec.name, False, f"FAIL {spec.name}: {where}: {'; '.join(problems)}")
    sizes = ", ".join(f"{s} {_rows(v.get('num_rows'))}" for s, v in record["splits"].items())
    return EntryCheck(spec.name, True, f"ok   {spec.name}: {where} (manifest: {sizes}; {len(record['evidence'])} "
                                       f"pieces of evidence, confidence {record['confidence']})")


def online_check(spec: TaskSpec, api: Any) -> EntryCheck:
    """Ask the hub about one entry (raises what ``api`` raises when the hub cannot be reached at all)."""
    where = _where(spec)
    try:
        info = api.dataset_info(spec.hub_path, revision=spec.hub_revision)
    except Exception as err:
        if type(err).__name__ not in ENTRY_ERRORS:
            raise
        why = "it is gated: accept its terms on the hub and log in" if type(err).__name__ == "GatedRepoError" else (
            first_line(err, 120, with_type=True))
        return EntryCheck(spec.name, False, f"FAIL {spec.name}: {where}: {why}")
    facts = hub_facts(spec, info)
    problems = online_problems(spec, facts)
    if problems:
        return EntryCheck(spec.name, False, f"FAIL {spec.name}: {where}: {'; '.join(problems)}", facts)
    sizes = ", ".join(f"{s} {_rows(v.get('num_rows'))}" for s, v in facts.splits.items())
    sha = f" (commit {str(getattr(info, 'sha', '') or '')[:10]})" if getattr(info, "sha", None) else ""
    return EntryCheck(spec.name, True, f"ok   {spec.name}: {where}{sha}: {sizes}", facts)


def hub_facts(spec: TaskSpec, info: Any) -> HubFacts:
    """Splits, sizes and features of the entry's config, from the repository's card and file list."""
    files = [s.rfilename for s in (getattr(info, "siblings", None) or [])]
    card = _card(info)
    config = spec.hub_config or "default"
    meta = next((c for c in _as_list(card.get("dataset_info")) if c.get("config_name", "default") == config), {})
    splits = {s["name"]: {"num_rows": s.get("num_examples"), "num_bytes": s.get("num_bytes")}
              for s in meta.get("splits") or []}
    for split in _file_splits(spec, card, files):
        splits.setdefault(split, {"num_rows": None, "num_bytes": None})
    features = datasets.Features._from_yaml_list(meta["features"]).to_dict() if meta.get("features") else None
    return HubFacts(splits, meta.get("download_size"), features, files)


def online_problems(spec: TaskSpec, facts: HubFacts) -> list[str]:
    """Why the entry cannot be loaded as declared, from what the hub said."""
    problems = []
    scripts = [f for f in facts.files if "/" not in f and f.endswith(".py")]
    data = [f for f in facts.files if f.endswith((".parquet", ".arrow", ".json", ".jsonl", ".csv", ".tsv"))]
    if scripts and not data:
        problems.append(f"it holds only a loading script ({scripts[0]}), which datasets >= 4 refuses; its parquet "
                        f"conversion is revision={PARQUET_BRANCH!r}")
    features = datasets.Features.from_dict(facts.features) if facts.features is not None else None
    return problems + split_and_field_problems(spec, facts.splits, features)


def refreshed(record: Mapping[str, Any], facts: HubFacts) -> dict[str, Any]:
    """``record`` with the hub's current splits, sizes and features (known values only: a size the hub does not give
    keeps the record's; evidence kept)."""
    new = dict(record)
    new["splits"] = {s: _known(sizes, (record.get("splits") or {}).get(s) or {}) for s, sizes in facts.splits.items()}
    if facts.download_bytes is not None:
        new["download_bytes"] = facts.download_bytes
    if facts.features is not None:
        new["features"], new["features_source"] = facts.features, "the hub's dataset card (flanlab catalogue check)"
    return new


def _known(sizes: Mapping[str, int | None], old: Mapping[str, Any]) -> dict[str, int | None]:
    """``sizes``, with the ``old`` value where the new one is None."""
    return {k: old.get(k) if v is None else v for k, v in sizes.items()}


def _file_splits(spec: TaskSpec, card: Mapping[str, Any], files: list[str]) -> list[str]:
    """Split names the repository's files give: the card's ``configs`` block, or (the parquet conversion) the
    ``<config dir>/<split>/`` folders under ``data_dir``."""
    config = spec.hub_config or "default"
    for entry in _as_list(card.get("configs")):
        if entry.get("config_name", "default") == config:
            data_files = entry.get("data_files") or []
            named = [d["split"] for d in _as_list(data_files) if isinstance(d, Mapping) and "split" in d]
            return [s for s in named if any(fnmatch.fnmatch(f, _pattern(d)) for d in data_files for f in files)] \
                or named
    prefix = f"{spec.hub_data_dir.strip('/')}/" if spec.hub_data_dir else ""
    found = [_split_of(path[len(prefix):]) for path in files if path.startswith(prefix) and path.endswith(".parquet")]
    return list(dict.fromkeys(s for s in found if s))


def _split_of(path: str) -> str | None:
    """The split a parquet file holds, by the hub's layouts: ``<config>/<split>/0000.parquet``,
    ``<config>/<name>-<split>[-00000-of-00002].parquet`` or ``data/<split>-00000-of-00001.parquet``."""
    parts = path.split("/")
    if len(parts) >= 3:
        split = parts[-2]
    else:
        stem = _SHARD.sub("", parts[-1].removesuffix(".parquet"))
        split = stem.rsplit("-", 1)[-1] if "-" in stem else None
    return {"dev": "validation", "val": "validation"}.get(split, split) if split else None


def _pattern(data_file: Mapping[str, Any]) -> str:
    path = data_file.get("path", "")
    return path[0] if isinstance(path, list) and path else str(path)


def _card(info: Any) -> dict[str, Any]:
    card = getattr(info, "card_data", None) or getattr(info, "cardData", None) or {}
    return card.to_dict() if hasattr(card, "to_dict") else dict(card)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _where(spec: TaskSpec) -> str:
    parts = [spec.hub_path]
    if spec.hub_config:
        parts.append(f"config {spec.hub_config}")
    if spec.hub_data_dir:
        parts.append(f"data_dir {spec.hub_data_dir}")
    parts.append(f"@{spec.hub_revision}" if spec.hub_revision else "@main")
    return " ".join(parts)


def _rows(n: int | None) -> str:
    return "? rows" if n is None else f"{n:,} rows"
