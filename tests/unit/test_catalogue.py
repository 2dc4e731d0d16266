"""The FLAN catalogue as data, its hub/mirror loading, caps, one-line errors and the overlap rule."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml
from datasets import Features

from flanlab.errors import ConfigError, DataError
from flanlab.tasks.flan import flan_specs
from flanlab.tasks.flan.build import hub_features
from flanlab.tasks.hub import HubCatalogue, mirror_folder
from flanlab.tasks.overlap import remove_overlaps
from tests.conftest import CONF_DIR, MIRROR_DIR

FLAN = flan_specs()
CLUSTERS = {"nli", "reading_comprehension", "closed_book_qa", "commonsense", "coreference", "sentiment", "paraphrase",
            "struct_to_text", "translation", "summarization", "reading_comprehension_with_commonsense", "misc"}
MIRROR_YAML = yaml.safe_load((CONF_DIR / "tasks" / "flan_mirror.yaml").read_text())["base"]
needs_mirror = pytest.mark.skipif(not MIRROR_DIR.is_dir(), reason=f"flan mirror not found at {MIRROR_DIR}")


def test_catalogue_size_and_clusters():
    per_cluster = Counter(s.cluster for s in FLAN.values())
    assert set(per_cluster) == CLUSTERS
    assert len(FLAN) >= 40 and min(per_cluster.values()) >= 2, per_cluster
    heldout_files = {p.stem for p in (CONF_DIR / "heldout").glob("*.yaml")}
    assert heldout_files >= CLUSTERS, CLUSTERS - heldout_files
    related = yaml.safe_load((CONF_DIR / "split" / "flan.yaml").read_text())["related"]
    assert {c for k, v in related.items() for c in [k, *v]} <= CLUSTERS


@pytest.mark.parametrize("spec", list(FLAN.values()), ids=list(FLAN))
def test_entry_is_complete(spec):
    assert spec.hub_path and spec.display_name and spec.description, spec.name
    assert isinstance(hub_features(spec), Features), spec.name
    assert len(spec.templates) >= 7 and any(t.inverted for t in spec.templates), spec.name
    assert spec.metric in ({"accuracy"} if spec.is_classification else {"exact_match", "rouge_l", "bleu"}), spec.name
    assert spec.train_split and spec.eval_split and spec.train_split != spec.eval_split, spec.name
    if spec.is_classification:
        assert (spec.options is None) != (spec.options_field is None), spec.name


@needs_mirror
def test_flan_mirror_config_lists_exactly_the_mirrored_entries():
    aliases = MIRROR_YAML["mirror_aliases"]
    present = [name for name, spec in FLAN.items() if mirror_folder(MIRROR_DIR, spec, aliases).is_dir()]
    assert sorted(MIRROR_YAML["tasks"]) == sorted(present)
    assert len(present) == 19


@needs_mirror
@pytest.mark.parametrize("name", MIRROR_YAML["tasks"])
def test_mirror_features_match_the_declared_hub_schema_and_rows_load(name):
    spec = FLAN[name]
    folder = mirror_folder(MIRROR_DIR, spec, MIRROR_YAML["mirror_aliases"])
    assert Features.from_dict(json.loads((folder / "features.json").read_text())) == hub_features(spec)
    cat = HubCatalogue(tasks=[name], mirror_dir=str(MIRROR_DIR), mirror_aliases=MIRROR_YAML["mirror_aliases"],
                       train_cap=50, eval_cap=20)
    train, evals = cat.train_data(name), cat.eval_data(name)
    assert len(train) == 50 and 0 < len(evals) <= 20
    for row in list(train.select(range(5))) + list(evals.select(range(5))):
        refs = spec.references(row)
        assert refs and all(r and r == r.strip() for r in refs), (name, refs)
        if spec.is_classification:
            assert 0 <= spec.label_index(row) < len(spec.row_options(row))


@needs_mirror
def test_caps_are_per_dataset_and_configurable():
    cat = HubCatalogue(tasks=["rte", "copa"], mirror_dir=str(MIRROR_DIR), train_cap=30, caps={"copa": {"train": 7}})
    assert len(cat.train_data("rte")) == 30 and len(cat.train_data("copa")) == 7
    assert len(cat.eval_data("rte")) == 277  # eval_cap None: the whole validation split
    cb = HubCatalogue(tasks=["cb"], mirror_dir=str(MIRROR_DIR), eval_splits={"cb": "test"})
    assert cb.eval_data("cb").num_rows == 250


def test_neither_mirror_nor_hub_gives_one_line_error_naming_both(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    cat = HubCatalogue(tasks=["rte"], mirror_dir=str(tmp_path))
    with pytest.raises(DataError) as err:
        cat.train_data("rte")
    text = str(err.value)
    assert "\n" not in text and "'rte'" in text
    assert str(tmp_path / "super_glue" / "rte" / "train.jsonl") in text  # the mirror keeps the legacy folder
    assert "load_dataset('aps/super_glue', name='rte', split='train')" in text  # today's namespaced id


def test_bad_names_are_one_line_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="Did you mean 'rte'"):
        HubCatalogue(tasks=["rtee"])
    with pytest.raises(ConfigError, match=r"tasks\.caps"):
        HubCatalogue(tasks=["rte"], caps={"cb": {"train": 3}})
    with pytest.raises(ConfigError, match=r"data\.mirror_dir"):
        HubCatalogue(tasks=["rte"], mirror_dir=str(tmp_path / "absent"))


def test_overlap_removes_training_tasks_that_share_data_with_scored_ones():
    kept, removed = remove_overlaps([FLAN["wsc273"], FLAN["gap"], FLAN["squad_v1"]], [FLAN["wnli"], FLAN["qnli"]])
    assert kept == ["gap"]
    assert "Winograd" in removed["wsc273"] and "wnli" in removed["wsc273"]
    assert "qnli" in removed["squad_v1"]
    kept, removed = remove_overlaps([FLAN["rte"]], [FLAN["rte"]])  # the same task in both
    assert kept == [] and "rte" in removed["rte"]
    assert remove_overlaps([FLAN["gap"]], [FLAN["copa"]]) == (["gap"], {})
