"""A catalogue whose rows come from the Hugging Face hub, or from an offline mirror with the hub's layout.

One entry serves both sources. With ``mirror_dir`` unset, rows come from
``datasets.load_dataset(repo, config, revision=..., data_dir=..., split=...)`` (``flanlab.tasks.hub_load``; the
entries and their evidence: ``flanlab/tasks/flan/hub_manifest.json``), or a streamed sample for splits far larger
than their cap. With it set, from ``<mirror_dir>/<legacy id>/<split>.jsonl`` cast to the ``features.json``
beside it (the mirror keeps the hub's legacy folder names, e.g. ``glue/rte``). Either way the loaded schema is
checked against the entry's declared features: a missing or retyped field is one line naming the dataset, the
source and the field (extra columns are dropped). Split names may carry ``datasets`` slicing (``train[:85%]``)
for datasets with a single split.

After loading, each entry's ``preprocess`` maps raw rows to template fields (batched ``datasets.map``),
classification rows whose label is missing (-1, as on the hub) and generation rows with no reference are
dropped and counted (``data.bad_rows``, see ``flanlab.tasks.rows``), and the train / eval caps apply. A capped
split is always a seeded random sample in random order (``sample_order`` keyed by task and split), whatever its
size: train splits draw with ``seed`` (the cell seed), scored splits with ``eval_seed`` (fixed, so every cell of a
grid scores the same rows). Uncapped splits keep the source order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import datasets

from flanlab.errors import ConfigError, DataError, first_line, unknown
from flanlab.metrics import check_metric, metric_path
from flanlab.tasks.catalogue import Catalogue, EntryUnavailable
from flanlab.tasks.flan.build import hub_features
from flanlab.tasks.flan.manifest import load_arguments, spec_record, split_name
from flanlab.tasks.hub_load import Sample, describe_plan, fetch_plan, load_hub_split, stream_sample
from flanlab.tasks.hub_schema import conform, schema_problems
from flanlab.tasks.rows import NULL_COLUMN, sample_order, text_fields
from flanlab.tasks.spec import TaskSpec


def mirror_folder(mirror_dir: str | Path, spec: TaskSpec, aliases: Mapping[str, str] | None = None) -> Path:
    """The mirror folder for an entry. The mirror keeps the hub's legacy ids (``<dir>/glue/rte``): a FLAN entry's
    folder is its manifest ``legacy_id``; ``aliases`` may point that id, or the entry's ``<repo>/<config>``, at
    another folder (a stand-in). Other hub tasks use ``<hub_path>/<config or 'default'>``."""
    record = spec_record(spec)
    current = f"{spec.hub_path}/{spec.hub_config or spec.hub_data_dir or 'default'}"
    legacy = record["legacy_id"] if record else current
    aliases = aliases or {}
    return Path(mirror_dir) / aliases.get(current, aliases.get(legacy, legacy))


def load_mirror_split(folder: Path, split: str) -> datasets.Dataset:
    """One split from a mirror folder, cast to its ``features.json``; raises FileNotFoundError if absent."""
    name = split_name(split)
    data = folder / f"{name}.jsonl"
    feats = folder / "features.json"
    if not data.is_file() or not feats.is_file():
        raise FileNotFoundError(f"{data} (and features.json beside it)")
    features = datasets.Features.from_dict(json.loads(feats.read_text()))
    try:
        return datasets.load_dataset("json", data_files={name: str(data)}, features=features, split=split)
    except datasets.exceptions.DatasetGenerationError as err:
        detail = _first_bad_line(data) or f"cannot be read ({first_line(err.__cause__ or err, 160)})"
        raise DataError(f"mirror file {str(data)!r}: {detail}") from None


def _first_bad_line(path: Path) -> str | None:
    """``line N is not a JSON object`` for the first such line of a JSONL file, or None."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for n, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                if isinstance(json.loads(line), dict):
                    continue
            except ValueError:
                pass
            return f"line {n} is not a JSON object"
    return None


class NullField(KeyError):
    """A preprocess read a field whose value is null."""


class NullGuardedRow(dict):
    """A raw row whose ``row[field]`` raises ``NullField`` for a null value (``row.get`` still returns None, for
    code that handles it), so a preprocess never turns a null into the text ``None``. Nested mappings are guarded
    too."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if value is None:
            raise NullField(key)
        return NullGuardedRow(value) if isinstance(value, dict) else value


def _batched(spec: TaskSpec):
    """Wrap ``spec.preprocess`` (one raw row -> template fields) into a batched ``datasets.map`` function.

    A row whose preprocess reads a null field yields nulls and names that field in ``NULL_COLUMN``; the bad-row
    rule (``flanlab.tasks.rows``) then skips and counts it, or stops under ``data.bad_rows=error``."""
    fn = spec.preprocess

    def run(columns: dict[str, list]) -> dict[str, list]:
        rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        out, nulls = [], []
        for row in rows:
            try:
                out.append(fn(NullGuardedRow(row)))
                nulls.append(None)
            except NullField as err:
                out.append(None)
                nulls.append(str(err.args[0]))
        done = [o for o in out if o is not None]
        keys = list(done[0]) if done else sorted(spec.row_fields() | set(text_fields(spec)))
        return {**{k: [o[k] if o is not None else None for o in out] for k in keys}, NULL_COLUMN: nulls}

    return run


class HubCatalogue(Catalogue):
    """FLAN catalogue entries (or a chosen subset) loaded from the hub or a local mirror.

    ``tasks``: entry names to include (None: every entry). ``train_cap``/``eval_cap``: rows kept per
    dataset split (None: all); ``caps`` overrides them per task, e.g. ``{squad_v1: {train: 5000}}``.
    ``eval_splits`` overrides the scored split per task (e.g. ``{cb: test}`` on the mirror's labelled
    test split). ``mirror_aliases`` points an entry's ``<hub_path>/<config>`` at another mirror folder
    (a stand-in). ``num_proc`` is passed to ``datasets.map``. ``seed`` draws the capped train rows,
    ``eval_seed`` the capped scored rows (not the cell seed: paired comparisons need the same rows).
    """

    def __init__(
        self,
        tasks: Iterable[str] | None = None,
        mirror_dir: str | None = None,
        train_cap: int | None = 30000,
        eval_cap: int | None = None,
        caps: Mapping[str, Mapping[str, int]] | None = None,
        eval_splits: Mapping[str, str] | None = None,
        mirror_aliases: Mapping[str, str] | None = None,
        seed: int = 0,
        num_proc: int | None = None,
        entries: Mapping[str, TaskSpec] | None = None,
        eval_seed: int = 0,
        stream_above: int | None = 1_000_000,
    ) -> None:
        from flanlab.tasks.flan import flan_specs

        every = dict(entries) if entries is not None else flan_specs()
        names = list(tasks) if tasks is not None else list(every)
        for name in names:
            if name not in every:
                raise unknown("FLAN catalogue entry", name, every, key="tasks.tasks")
        self._specs = {name: every[name] for name in names}
        self.mirror_dir = mirror_dir
        self.train_cap, self.eval_cap = train_cap, eval_cap
        self.caps = {k: dict(v) for k, v in (caps or {}).items()}
        self.eval_splits = dict(eval_splits or {})
        self.mirror_aliases = dict(mirror_aliases or {})
        self.seed, self.eval_seed, self.num_proc, self.stream_above = seed, eval_seed, num_proc, stream_above
        for key, where in ((self.caps, "tasks.caps"), (self.eval_splits, "tasks.eval_splits")):
            for name in key:
                if name not in self._specs:
                    raise unknown("task", name, self._specs, key=where)
        for spec in self._specs.values():  # a metric flanlab does not ship must load now (hub), not after training
            if metric_path(spec.metric) is None:
                check_metric(spec.metric, spec.name)
        if mirror_dir is not None and not Path(mirror_dir).is_dir():
            raise ConfigError(f"mirror directory {mirror_dir!r} does not exist (config key `data.mirror_dir`)")

    @property
    def specs(self) -> Mapping[str, TaskSpec]:
        return self._specs

    def _drop_specs(self, names: set[str]) -> None:
        self._specs = {k: v for k, v in self._specs.items() if k not in names}

    @cached_property
    def _cache(self) -> dict[tuple[str, str], datasets.Dataset]:
        return {}

    def raw(self, name: str, split: str) -> datasets.Dataset:
        """The raw hub rows of one split, from the mirror when it is set, else from the hub; checked against the
        entry's declared fields (``flanlab.tasks.hub_schema``) and reduced to them."""
        spec = self.spec(name)
        tried = []
        if self.mirror_dir is not None:
            folder = mirror_folder(self.mirror_dir, spec, self.mirror_aliases)
            try:
                return self._checked(spec, split, load_mirror_split(folder, split), f"mirror folder {str(folder)!r}")
            except (FileNotFoundError, ValueError) as err:
                tried.append(f"mirror {folder / (split_name(split) + '.jsonl')} ({first_line(err, 160)})")
        args = load_arguments(spec, split)
        try:
            rows = load_hub_split(spec, split, self._sample(name, split))
        except Exception as err:  # any hub failure becomes one line naming both places
            tried.append(f"hub {_call(args)} ({first_line(err, 160)})")
            raise EntryUnavailable(f"dataset {name!r} split {split!r} could not be loaded; tried: "
                                   + "; ".join(tried)) from None
        return self._checked(spec, split, rows, f"hub {_call(args)}")

    def _checked(self, spec: TaskSpec, split: str, rows: datasets.Dataset, where: str) -> datasets.Dataset:
        """``rows`` reduced to the declared fields, or one line naming the first missing or retyped one."""
        declared = hub_features(spec)
        if declared is None:
            return rows
        problems = schema_problems(declared, rows.features)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise EntryUnavailable(f"dataset {spec.name!r} split {split!r} from {where}: {problems[0]}{more}; the "
                                   "entry's declared features (flanlab/tasks/flan) need it")
        return conform(rows, declared)

    def _sample(self, name: str, split: str) -> Sample | None:
        """A streamed sample for a split far larger than its cap (``stream_above``), else None."""
        seed = self.seed if self._role(name, split) == "train" else self.eval_seed
        return stream_sample(self.spec(name), split, self._cap(name, split), seed, self.stream_above)

    def fetch_line(self, tasks: Iterable[str]) -> str | None:
        """What loading ``tasks`` from the hub will download, as one line (None when the mirror serves them all)."""
        specs = [self.spec(t) for t in tasks if t in self.specs and not self._in_mirror(self.spec(t))]
        if not specs:
            return None
        splits = lambda spec: dict.fromkeys([spec.train_split, self.eval_splits.get(spec.name, spec.eval_split)])  # noqa: E731
        return describe_plan(fetch_plan(specs, splits, lambda spec, split: self._sample(spec.name, split)))

    def _in_mirror(self, spec: TaskSpec) -> bool:
        return self.mirror_dir is not None and mirror_folder(self.mirror_dir, spec, self.mirror_aliases).is_dir()

    def load(self, name: str, split: str) -> datasets.Dataset:
        key = (name, split)
        if key not in self._cache:
            self._cache[key] = self._prepare(name, split)
        return self._cache[key]

    def _prepare(self, name: str, split: str) -> datasets.Dataset:
        spec = self.spec(name)
        rows = self.raw(name, split)
        if spec.preprocess is not None and len(rows):
            rows = rows.map(_batched(spec), batched=True, remove_columns=rows.column_names,
                            num_proc=self.num_proc, desc=f"preprocess {name}")
        missing = spec.row_fields() - set(rows.column_names)
        if missing:
            raise DataError(f"dataset {name!r} split {split!r} lacks fields {sorted(missing)} after preprocessing")
        rows = Catalogue.usable(self, name, split, rows)  # drop and count unusable rows before the cap
        if NULL_COLUMN in rows.column_names:
            rows = rows.remove_columns(NULL_COLUMN)
        cap = self._cap(name, split)
        if cap is not None:  # a seeded sample in random order, also when the split has fewer rows than the cap
            seed = self.seed if self._role(name, split) == "train" else self.eval_seed
            rows = rows.select(sample_order(len(rows), seed, f"{name}/{split}")[:cap]).flatten_indices()
        return rows

    def usable(self, name: str, split: str, rows: datasets.Dataset) -> datasets.Dataset:
        return rows  # already checked (and counted) once, in ``_prepare``

    def _role(self, name: str, split: str) -> str:
        return "train" if split == self.spec(name).train_split else "eval"

    def _cap(self, name: str, split: str) -> int | None:
        role = self._role(name, split)
        return self.caps.get(name, {}).get(role, self.train_cap if role == "train" else self.eval_cap)

    def eval_data(self, name: str) -> datasets.Dataset:
        return self.load(name, self.eval_splits.get(name, self.spec(name).eval_split))


def _call(args: Mapping[str, Any]) -> str:
    """``load_dataset(...)`` as it is called, without the unset keywords."""
    shown = [repr(args["path"]), *(f"{k}={v!r}" for k, v in args.items() if k != "path" and v is not None)]
    return f"load_dataset({', '.join(shown)})"


def describe(spec: TaskSpec) -> dict[str, Any]:
    """A JSON-friendly summary of an entry (for docs and reports)."""
    return {"name": spec.name, "cluster": spec.cluster, "hub": [spec.hub_path, spec.hub_config],
            "kind": spec.kind, "train": spec.train_split, "eval": spec.eval_split, "metric": spec.metric,
            "templates": len(spec.templates), "inverted": sum(t.inverted for t in spec.templates)}


def example_row(features: datasets.Features | Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A placeholder raw row with the shape of ``features`` (strings name their field, labels are 0).

    Lets template checks run over entries whose real rows are not at hand (hub-only entries).
    """
    def value(feature: Any, path: str) -> Any:
        if isinstance(feature, datasets.ClassLabel):
            return 0
        if isinstance(feature, datasets.Translation):
            return {lang: f"<{path}.{lang}>" for lang in feature.languages}
        if isinstance(feature, datasets.List | datasets.Sequence):
            inner = feature.feature
            return [value(inner, f"{path}.{i}") for i in range(2)]
        if isinstance(feature, dict):
            return {k: value(v, f"{path}.{k}") for k, v in feature.items()}
        dtype = getattr(feature, "dtype", "string")
        if dtype == "string":
            return f"<{path}>"
        if dtype == "bool":
            return True
        if dtype.startswith("float"):
            return 1.0
        return 0

    return {name: value(f, prefix + name) for name, f in features.items()}
