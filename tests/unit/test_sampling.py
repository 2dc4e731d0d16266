"""Caps are seeded random samples, not prefixes: label-sorted splits stay balanced, train and eval."""

from __future__ import annotations

import json
import logging

import datasets
import pytest

from flanlab.data.mixture import build_mixture, label_histogram
from flanlab.scoring.zeroshot import eval_label_histograms, eval_rows
from flanlab.splits import make_split
from flanlab.tasks.catalogue import LocalCatalogue
from flanlab.tasks.hub import HubCatalogue
from flanlab.tasks.rows import sample_order
from flanlab.tasks.spec import TaskSpec, Template

TEMPLATES = (Template("t0", "{sentence}\nTrue?\n{options}"),)


def sorted_spec(name: str, cluster: str, **kw) -> TaskSpec:
    return TaskSpec(name=name, cluster=cluster, display_name=name, kind="classification", input_fields=("sentence",),
                    options=("yes", "no"), templates=TEMPLATES, **kw)


def sorted_rows(n_per_class: int = 1000) -> list[dict]:
    """``n_per_class`` rows of label 0, then as many of label 1 (the shape of many hub dumps)."""
    return [{"sentence": f"sentence {i}", "label": i // n_per_class} for i in range(2 * n_per_class)]


class SortedCatalogue(LocalCatalogue):
    """Two clusters of one label-sorted task each, rows in memory."""

    def __init__(self) -> None:
        super().__init__({name: (sorted_spec(name, cluster), {"train": sorted_rows(), "validation": sorted_rows()})
                          for name, cluster in (("sorted_a", "nli"), ("sorted_b", "sentiment"))}, source="sorted rows")


def _balanced(hist: dict[str, int], total: int) -> bool:
    """Both classes within 10 points of an even split."""
    return set(hist) == {"yes", "no"} and all(0.4 * total <= c <= 0.6 * total for c in hist.values())


def test_sample_order_is_a_seeded_permutation_keyed_by_name():
    order = sample_order(50, 0, "a")
    assert sorted(order) == list(range(50)) and order != list(range(50))
    assert order == sample_order(50, 0, "a")
    assert order != sample_order(50, 1, "a") and order != sample_order(50, 0, "b")


def test_training_cap_draws_a_balanced_sample_from_label_sorted_rows():
    cat = SortedCatalogue()
    mixture = build_mixture(cat, make_split(cat.clusters, ["nli"]), "instruction", max_per_task=200, seed=0)
    hist = mixture.label_histograms["sorted_b"]
    assert sum(hist.values()) == 200 and _balanced(hist, 200), hist  # a prefix would be {"yes": 200}
    indices = mixture.row_indices["sorted_b"]
    assert len(indices) == len(set(indices)) == 200 and indices != list(range(200))
    # The recorded indices are exactly the rows that trained.
    trained = {t for t in mixture.examples["input"]}
    rows = cat.train_data("sorted_b").select(indices)
    assert all(any(r["sentence"] in t for t in trained) for r in rows.select(range(10)))
    other = build_mixture(cat, make_split(cat.clusters, ["nli"]), "instruction", max_per_task=200, seed=1)
    assert other.row_indices["sorted_b"] != indices  # the cell seed draws another sample


def test_eval_cap_is_balanced_and_the_same_for_every_cell():
    cat = SortedCatalogue()
    rows = eval_rows(cat, ["sorted_a"], 100)
    hist = label_histogram(cat.spec("sorted_a"), rows["sorted_a"])
    assert sum(hist.values()) == 100 and _balanced(hist, 100), hist
    assert eval_label_histograms(cat, rows) == {"sorted_a": hist}
    again = eval_rows(cat, ["sorted_a"], 100)["sorted_a"]
    assert again["sentence"] == rows["sorted_a"]["sentence"]  # no cell seed: every arm scores these rows
    assert eval_rows(cat, ["sorted_a"], 100, seed=1)["sorted_a"]["sentence"] != again["sentence"]
    after = eval_rows(cat, ["sorted_a"], 100, offset=100)["sorted_a"]
    assert not set(after["sentence"]) & set(again["sentence"])  # disjoint offsets, disjoint samples


def test_skewed_split_warns_once_naming_task_and_split(caplog):
    spec = sorted_spec("skewed", "nli")
    rows = datasets.Dataset.from_list([{"sentence": "s", "label": int(i >= 95)} for i in range(100)])
    with caplog.at_level(logging.WARNING, logger="flanlab.data.mixture"):
        assert label_histogram(spec, rows, split="validation") == {"yes": 95, "no": 5}
    (record,) = caplog.records
    assert "skewed" in record.getMessage() and "validation" in record.getMessage()
    caplog.clear()
    label_histogram(spec, rows.select(range(10, 100)))  # no split named: no warning
    even = datasets.Dataset.from_list([{"sentence": "s", "label": i % 2} for i in range(100)])
    label_histogram(spec, even, split="train")
    assert not caplog.records


def test_per_row_option_tasks_count_gold_positions():
    spec = TaskSpec(name="mc", cluster="c", display_name="mc", kind="classification", input_fields=("q",),
                    options_field="choices", templates=(Template("t", "{q}\n{options}"),))
    rows = datasets.Dataset.from_list([{"q": "q", "choices": [f"a{i}", f"b{i}"], "label": i % 2} for i in range(6)])
    assert label_histogram(spec, rows) == {"#0": 3, "#1": 3}


def _mirror(tmp_path, spec: TaskSpec) -> str:
    folder = tmp_path / spec.hub_path / "default"
    folder.mkdir(parents=True)
    feats = datasets.Features({"sentence": datasets.Value("string"), "label": datasets.Value("int64")})
    (folder / "features.json").write_text(json.dumps(feats.to_dict()))
    for split in ("train", "validation"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in sorted_rows()))
    return str(tmp_path)


@pytest.mark.parametrize("seed", [0, 3])
def test_hub_caps_sample_label_sorted_mirror_splits(tmp_path, seed):
    spec = sorted_spec("sorted_hub", "nli", hub_path="toy/sorted")
    mirror = _mirror(tmp_path, spec)
    cat = HubCatalogue(mirror_dir=mirror, train_cap=200, eval_cap=100, seed=seed, entries={spec.name: spec})
    train, scored = cat.train_data(spec.name), cat.eval_data(spec.name)
    assert len(train) == 200 and _balanced(label_histogram(spec, train), 200)
    assert len(scored) == 100 and _balanced(label_histogram(spec, scored), 100)
    # Scored rows do not follow the cell seed (HubCatalogue.seed); train rows do.
    base = HubCatalogue(mirror_dir=mirror, train_cap=200, eval_cap=100, seed=0, entries={spec.name: spec})
    assert base.eval_data(spec.name)["sentence"] == scored["sentence"]
    assert (base.train_data(spec.name)["sentence"] == train["sentence"]) == (seed == 0)


def test_hub_cap_larger_than_the_split_still_gives_a_random_order(tmp_path):
    spec = sorted_spec("sorted_hub", "nli", hub_path="toy/sorted")
    cat = HubCatalogue(mirror_dir=_mirror(tmp_path, spec), train_cap=5000, entries={spec.name: spec})
    labels = cat.train_data(spec.name)["label"]
    assert len(labels) == 2000 and sum(labels[:200]) > 50  # not the sorted source order
    assert list(cat.eval_data(spec.name)["label"]) == [r["label"] for r in sorted_rows()]  # uncapped: source order
