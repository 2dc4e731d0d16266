"""The FLAN catalogue on today's hub (issue 24): every entry has a namespaced id and needs no loading script, agrees
with the checked-in manifest (splits, fields, label names), and makes the exact ``datasets.load_dataset`` call the
manifest records. A few entries load end to end through ``datasets`` from a local folder laid out like their hub
repository (parquet files plus the card's ``configs:``, or the parquet-conversion branch's layout), built here from
mirror rows, so the same config, ``data_dir`` and split logic runs as on the hub."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
import yaml

from flanlab.errors import DataError
from flanlab.tasks.catalogue import EntryUnavailable
from flanlab.tasks.flan import flan_specs
from flanlab.tasks.flan.build import PARQUET_BRANCH
from flanlab.tasks.flan.manifest import (
    declaration_problems,
    hub_features_of,
    load_arguments,
    manifest_entries,
    read_manifest,
    split_name,
)
from flanlab.tasks.hub import HubCatalogue, example_row
from flanlab.tasks.hub_load import Sample, load_hub_split, stream_sample
from tests.conftest import MIRROR_DIR

SPECS = flan_specs()
ENTRIES = manifest_entries()
NAMES = sorted(SPECS)
needs_mirror = pytest.mark.skipif(not MIRROR_DIR.is_dir(), reason=f"flan mirror not found at {MIRROR_DIR}")


def test_the_manifest_lists_every_entry_once_and_nothing_else():
    assert read_manifest()["schema_version"] == 1
    assert sorted(ENTRIES) == NAMES and len(NAMES) == 60


@pytest.mark.parametrize("name", NAMES)
def test_each_declaration_agrees_with_its_manifest_record(name):
    """Namespaced id; repo, config, revision, data_dir as recorded; the splits it uses exist on the hub; every
    declared raw field is among the hub's features, with the same type and label names in the same order."""
    spec, record = SPECS[name], ENTRIES[name]
    assert spec.hub_path.count("/") == 1 and all(spec.hub_path.split("/")), spec.hub_path
    assert declaration_problems(spec, record) == []
    assert record["needs_loading_script"] is False
    assert record["revision"] in (None, PARQUET_BRANCH) or len(record["revision"]) == 40
    if record["revision"] == PARQUET_BRANCH:
        assert record["config"] is None, "the conversion branch has no card to name configs by: use data_dir"
    assert len(record["evidence"]) >= 2 and all(e["where"] and e["says"] for e in record["evidence"])
    assert record["confidence"] in ("high", "medium", "low")


@pytest.mark.parametrize("name", NAMES)
def test_preprocess_on_a_row_shaped_like_the_hub_features_gives_the_template_fields(name):
    spec = SPECS[name]
    raw = example_row(hub_features_of(ENTRIES[name]))
    row = spec.preprocess(raw) if spec.preprocess else raw
    needed = spec.row_fields() | {f for t in spec.templates for f in t.fields()}
    assert needed <= set(row), sorted(needed - set(row))


@pytest.mark.parametrize("name", NAMES)
def test_the_exact_load_dataset_call_of_each_entry(name):
    spec, record = SPECS[name], ENTRIES[name]
    for split in (spec.train_split, spec.eval_split):
        assert load_arguments(spec, split) == {"path": record["repo_id"], "name": record["config"],
                                               "revision": record["revision"], "data_dir": record["data_dir"],
                                               "split": split}
        assert split_name(split) in record["splits"]


def test_a_mismatch_between_declaration_and_manifest_is_named():
    record = dict(ENTRIES["rte"])
    record["features"] = {**record["features"], "label": {"names": ["not_entailment", "entailment"],
                                                          "_type": "ClassLabel"}}
    record["splits"] = {"train": record["splits"]["train"]}
    problems = declaration_problems(SPECS["rte"], record)
    assert "split 'validation' is not among the hub's splits ['train']" in problems
    assert any("field 'label' has labels ['not_entailment', 'entailment'], declared ['entailment', 'not_entailment']"
               in p for p in problems)


# --- the real loading path, offline: local folders laid out like the hub repositories ---------------------------

def _mirror_rows(legacy_id: str, split: str) -> datasets.Dataset:
    folder = MIRROR_DIR / legacy_id
    features = datasets.Features.from_dict(json.loads((folder / "features.json").read_text()))
    return datasets.load_dataset("json", data_files=str(folder / f"{split}.jsonl"), features=features, split="train")


def _hub_repo(root: Path, name: str, splits: dict[str, str], change=None) -> Path:
    """A folder shaped like entry ``name``'s hub repository (or its parquet-conversion branch), from mirror rows
    (``change``d first, if given)."""
    spec, record = SPECS[name], ENTRIES[name]
    repo = root / f"{root.name}__{spec.hub_path.replace('/', '__')}"  # datasets' cache tells folders by name
    configs = []
    for hub_split, mirror_split in splits.items():
        rows = _mirror_rows(record["legacy_id"], mirror_split)
        rows = change(rows) if change else rows
        if record["revision"] == PARQUET_BRANCH:  # <config dir>/<split>/0000.parquet, no card
            path = repo / (spec.hub_data_dir or "default") / hub_split / "0000.parquet"
        else:  # <config>/<split>-00000-of-00001.parquet, named by the card's configs block
            path = repo / spec.hub_config / f"{hub_split}-00000-of-00001.parquet"
            configs.append({"split": hub_split, "path": f"{spec.hub_config}/{hub_split}-*"})
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.to_parquet(str(path))
    if configs:
        card = {"configs": [{"config_name": spec.hub_config, "data_files": configs}]}
        (repo / "README.md").write_text(f"---\n{yaml.safe_dump(card)}---\n# {spec.hub_path} (test copy)\n")
    return repo


@pytest.fixture
def local_hub(monkeypatch, tmp_path):
    """Redirect ``load_dataset(<repo id>, ...)`` to local copies (and record those calls); every other argument is
    passed on unchanged."""
    repos: dict[str, Path] = {}
    calls: list[dict] = []
    real = datasets.load_dataset

    def load_dataset(path, *args, **kwargs):
        if path in repos:
            calls.append({"path": path, **kwargs})
        return real(str(repos.get(path, path)), *args, **kwargs)

    monkeypatch.setattr("flanlab.tasks.hub_load.datasets.load_dataset", load_dataset)
    # datasets keys its cache of a local folder by the folder's name and file layout, not by content: a fresh cache
    # keeps one test's copy from being served to another
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_cache")
    return tmp_path, repos, calls


@needs_mirror
@pytest.mark.parametrize(("name", "splits"), [
    ("rte", {"train": "train", "validation": "validation"}),  # aps/super_glue, a card with configs
    ("sst2", {"train": "train", "validation": "validation"}),  # nyu-mll/glue
    ("trec", {"train": "train", "test": "test"}),  # CogComp/trec on refs/convert/parquet
    ("e2e_nlg", {"train": "train", "validation": "validation"}),  # tuetschek/e2e_nlg on refs/convert/parquet
])
def test_entries_load_end_to_end_through_datasets_from_a_hub_shaped_folder(local_hub, name, splits):
    root, repos, calls = local_hub
    spec = SPECS[name]
    repos[spec.hub_path] = _hub_repo(root, name, splits)
    catalogue = HubCatalogue(tasks=[name], train_cap=20, eval_cap=10)
    train, scored = catalogue.train_data(name), catalogue.eval_data(name)
    assert len(train) == 20 and len(scored) == 10
    assert spec.row_fields() <= set(train.column_names)
    assert calls == [{"path": spec.hub_path, "name": spec.hub_config, "revision": spec.hub_revision,
                      "data_dir": spec.hub_data_dir, "split": s} for s in (spec.train_split, spec.eval_split)]


@needs_mirror
def test_a_missing_or_retyped_field_after_a_hub_load_is_one_line(local_hub):
    root, repos, _ = local_hub
    splits = {"train": "train", "validation": "validation"}
    repos["nyu-mll/glue"] = _hub_repo(root / "renamed", "sst2", splits, lambda r: r.rename_column("sentence", "text"))
    with pytest.raises(EntryUnavailable) as err:
        HubCatalogue(tasks=["sst2"]).train_data("sst2")
    text = str(err.value)
    assert "\n" not in text and text.startswith("dataset 'sst2' split 'train' from hub load_dataset('nyu-mll/glue', "
                                                 "name='sst2', split='train'): field 'sentence' is missing")
    retyped = lambda r: r.cast_column("label", datasets.Value("string"))  # noqa: E731 - the label as text
    repos["nyu-mll/glue"] = _hub_repo(root / "retyped", "sst2", splits, retyped)
    with pytest.raises(DataError, match=r"field 'label' is string, declared ClassLabel\['negative', 'positive'\]"):
        HubCatalogue(tasks=["sst2"]).train_data("sst2")


def test_a_huge_split_is_streamed_as_a_seeded_sample_and_small_ones_are_not(tmp_path):
    wmt = SPECS["wmt14_fr_en"]
    sample = stream_sample(wmt, "train", 30000, seed=3, stream_above=1_000_000)
    assert sample == Sample(take=36100, seed=3)
    assert stream_sample(wmt, "validation", 30000, seed=3, stream_above=1_000_000) is None
    assert stream_sample(SPECS["rte"], "train", 1000, seed=3, stream_above=1_000_000) is None
    assert stream_sample(wmt, "train", None, seed=3, stream_above=1_000_000) is None  # uncapped: all of it
    for shard in range(5):  # a local repository of 5 shards of 40 rows
        path = tmp_path / "repo" / "data" / f"train-{shard:05d}-of-00005.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        datasets.Dataset.from_dict({"n": list(range(shard * 40, shard * 40 + 40))}).to_parquet(str(path))
    spec = SPECS["rte"].__class__(**{**SPECS["rte"].__dict__, "hub_path": str(tmp_path / "repo"), "hub_config": None})
    a = load_hub_split(spec, "train", Sample(take=30, seed=1))
    b = load_hub_split(spec, "train", Sample(take=30, seed=1))
    c = load_hub_split(spec, "train", Sample(take=30, seed=2))
    assert len(a) == 30 and a["n"] == b["n"] and a["n"] != c["n"] and len(set(a["n"])) == 30


def test_the_fetch_line_sums_the_manifest_sizes_and_names_streamed_splits():
    catalogue = HubCatalogue(tasks=["rte", "wmt14_fr_en", "piqa"])
    line = catalogue.fetch_line(["rte", "wmt14_fr_en", "piqa"])
    assert line.startswith("hub data for 3 entries: about ") and " MB to download" in line
    assert "streamed samples of wmt14_fr_en" in line and line.endswith("size unknown for wmt14_fr_en")
