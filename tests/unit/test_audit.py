"""The leakage audit finds planted exact and near duplicates and n-gram overlap, and nothing in a clean split."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path

import datasets
import pytest

from flanlab.audit import (
    TrainIndex,
    enforce,
    jaccard,
    leakage_audit,
    ngrams,
    normalize_text,
    shingles,
)
from flanlab.errors import ConfigError, DataError
from flanlab.splits import make_split
from flanlab.tasks.combined import CombinedCatalogue
from tests.conftest import ToyCatalogue

WORDS = [f"w{i}" for i in range(400)]


def _words(seed: int, n: int = 45) -> str:
    """``n`` random words (45: a one-word edit in the middle keeps the 3-shingle Jaccard near 0.87)."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n))


LONG = _words(0)


def _edit(text: str, at: int, word: str = "CHANGED") -> str:
    words = text.split()
    words[at] = word
    return " ".join(words)


def test_normalize_shingles_and_ngrams():
    assert normalize_text("The  RED box, is blue!") == "the red box is blue"
    assert ngrams("a b c", 2) == {("a", "b"), ("b", "c")} and ngrams("a b", 3) == set()
    assert shingles("a b c d") == {"a b c", "b c d"} and shingles("a b") == {"a b"} and shingles("") == set()


class _Planted(ToyCatalogue):
    """Held-out sentiment rows: one copied from a training task, one sharing a word 13-gram, one a near copy."""

    def load(self, name: str, split: str) -> datasets.Dataset:
        rows = [{**r, "sentence": f"{name} {split} {r['sentence']}"} if "sentence" in r else r
                for r in super().load(name, split).to_list()]
        if name == "toy_sent" and split == "validation":
            rows[0] = {"sentence": "TOY_NLI train: the red box, is RED!", "label": 0}  # toy_nli train row 0, normalised
            rows[1] = {"sentence": "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 tail", "label": 1}
            rows[2] = {"sentence": LONG, "label": 0}
        if name == "toy_nli" and split == "train":
            rows[2] = {"sentence": "head w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13", "label": 0}
            rows[10] = {"sentence": _edit(LONG, 20), "label": 0}  # one word changed, past the first 6 rows
        return datasets.Dataset.from_list(rows)


def _audit(catalogue, held: str, train: Mapping | None = None, **kw) -> Mapping:
    split = make_split(catalogue.clusters, [held], {})
    train = train or {t: 12 for c in split.train for t in catalogue.clusters[c]}
    heldout = {t: catalogue.eval_data(t).select(range(4)) for t in catalogue.clusters[held]}
    return leakage_audit(catalogue, split, train, heldout, **kw)


def test_planted_duplicate_near_duplicate_and_overlap_are_found():
    report = _audit(_Planted(), "sentiment")
    assert report["exact_duplicates"] == 1
    assert report["duplicate_examples"][0] == {
        "heldout_task": "toy_sent", "row": 0, "role": "heldout", "train_task": "toy_nli", "train_row": 0,
        "text": "toy_nli train the red box is red yes no yes"}
    assert report["near_duplicates"] == 1
    near = report["near_duplicate_examples"][0]
    assert (near["heldout_task"], near["row"], near["train_task"], near["train_row"]) == ("toy_sent", 2, "toy_nli", 10)
    assert 0.85 <= near["jaccard"] < 1.0
    assert report["ngram_overlap_rate"] == 0.5  # rows 1 (a planted 13-gram) and 2 (the near copy) of the 4
    assert report["train_tasks"] == {"toy_nli": "nli", "toy_para": "paraphrase", "toy_gen": "misc"}
    block = report["per_task"]["toy_sent"]
    assert block["exact_duplicates"] == 1 and block["near_duplicates"] == 1 and block["rows_checked"] == 4
    assert block["max_jaccard"] == 1.0 and block["max_jaccard_train_task"] == "toy_nli"
    assert len(report["leaks"]) == 2  # the 13-gram rows are short: reported, not a leak
    leak = r"1 exact duplicate.*1 near-duplicate.*toy_sent heldout row 2 ~ toy_nli row 10"
    with pytest.raises(DataError, match=leak):
        enforce(report, "error")


def test_threshold_is_honoured():
    strict = _audit(_Planted(), "sentiment", {"toy_nli": [10]}, near_dup_threshold=0.95)
    assert strict["near_duplicates"] == 0 and strict["leaks"] == []
    assert 0.85 <= strict["per_task"]["toy_sent"]["max_jaccard"] < 0.95  # the closest row is still reported
    with pytest.raises(ConfigError, match=r"data.near_dup_threshold must be in \(0, 1\], got 0"):
        _audit(_Planted(), "sentiment", near_dup_threshold=0)


def test_train_rows_may_be_a_count_or_row_indices():
    """The first N rows (old ``rows_per_task``) or the sampled indices (``Mixture.row_indices``)."""
    assert _audit(_Planted(), "sentiment", {"toy_nli": 6})["near_duplicates"] == 0  # row 10 did not train
    assert _audit(_Planted(), "sentiment", {"toy_nli": 11})["near_duplicates"] == 1
    by_index = _audit(_Planted(), "sentiment", {"toy_nli": [10, 3]})
    assert by_index["near_duplicates"] == 1 and by_index["exact_duplicates"] == 0 and by_index["train_examples"] == 2
    assert by_index["near_duplicate_examples"][0]["train_row"] == 10


def test_dev_rows_are_audited_too():
    cat = _Planted()
    split = make_split(cat.clusters, ["sentiment"], {})
    dev = {"toy_sent": datasets.Dataset.from_list([{"sentence": LONG, "label": 0}])}  # train row 10, one word off
    report = leakage_audit(cat, split, {"toy_nli": 12}, {}, dev_rows=dev)
    assert report["dev_examples"] == 1 and report["near_duplicates"] == 1
    assert report["near_duplicate_examples"][0]["role"] == "dev"
    assert report["per_task"]["toy_sent"]["dev_rows"] == 1


def test_long_rows_sharing_a_13gram_are_a_leak_past_ngram_overlap_max():
    cat = _Planted()
    split = make_split(cat.clusters, ["sentiment"], {})
    passage = " ".join(f"p{i}" for i in range(60))  # shares one 13-gram with training, otherwise different
    held = {"toy_sent": datasets.Dataset.from_list([{"sentence": passage + " " + LONG, "label": 0}])}
    train_text = "other words " + " ".join(f"p{i}" for i in range(20, 33))
    cat.rows("toy_nli", "train")[0] = {"sentence": train_text, "label": 0}
    report = leakage_audit(cat, split, {"toy_nli": 1}, held)
    assert report["near_duplicates"] == 0 and report["per_task"]["toy_sent"]["ngram_overlaps"] == 1
    assert report["leaks"] == ["task toy_sent: 1 of 1 rows of >= 50 words share a 13-gram with training "
                               "(share 1.000 > data.ngram_overlap_max=0.0)"]
    with pytest.raises(DataError, match="share a 13-gram"):
        enforce(report, "error")
    assert leakage_audit(cat, split, {"toy_nli": 1}, held, ngram_overlap_max=1.0)["leaks"] == []


def test_prefix_filter_finds_every_pair_brute_force_finds():
    rng = random.Random(1)
    vocab = WORDS[:30]
    train = [" ".join(rng.choice(vocab) for _ in range(rng.randint(3, 25))) for _ in range(300)]
    scored = [_edit(t, rng.randrange(len(t.split())), rng.choice(vocab)) for t in train[:150]]
    scored += [" ".join(rng.choice(vocab) for _ in range(12)) for _ in range(50)]
    from flanlab.audit import ScoredRow

    rows = [ScoredRow("x", "heldout", i, str(i), t, shingles(t), set(), len(t.split())) for i, t in enumerate(scored)]
    index = TrainIndex()
    vocab_sh = set().union(*(r.shingles for r in rows))
    for i, t in enumerate(train):
        index.add("train", i, f"train {i}", t, vocab_sh, set(), 13)
    for threshold in (0.5, 0.85):
        for row in rows:
            brute = max(jaccard(row.shingles, shingles(t)) for t in train)
            found, _ = index.best_match(row, threshold)
            assert (found >= threshold) == (brute >= threshold) and (brute < threshold or found == brute)


def _custom(folder: Path, name: str, cluster: str, rows: dict[str, list[dict]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    splits = {split: f"{name}_{split}.jsonl" for split in rows}
    spec = {"name": name, "cluster": cluster, "display_name": name, "kind": "classification",
            "input_fields": ["review"], "options": ["bad", "good"], "splits": splits,
            "templates": [{"id": "t", "input": "{review}\nGood or bad?\n{options}"}]}
    (folder / f"{name}.yaml").write_text(json.dumps(spec))  # JSON is YAML
    for split, file in splits.items():
        (folder / file).write_text("".join(json.dumps(r) + "\n" for r in rows[split]))


def test_a_tasks_extra_copy_of_a_heldout_dataset_in_another_cluster_is_caught(tmp_path):
    reviews = [_words(i + 1) for i in range(6)]
    held_rows = [{"review": r, "label": i % 2} for i, r in enumerate(reviews)]
    _custom(tmp_path / "held", "long_reviews", "sentiment", {"train": held_rows, "validation": held_rows})
    copied = [{"review": _edit(r, 10 + i), "label": i % 2} for i, r in enumerate(reviews[:4])]  # a word changed
    copied.append({"review": reviews[4].upper(), "label": 0})  # an exact copy up to case
    _custom(tmp_path / "copy", "reviews_again", "sentiment", {"train": copied, "validation": copied})
    cat = CombinedCatalogue(ToyCatalogue(), include=[{"path": str(tmp_path / "held")},
                                                  {"path": str(tmp_path / "copy"), "cluster": "misc"}])
    split = make_split(cat.clusters, ["sentiment"], {})
    assert "reviews_again" in cat.clusters["misc"] and "misc" in split.train
    train = {t: len(cat.train_data(t)) for c in split.train for t in cat.clusters[c]}
    report = leakage_audit(cat, split, train, {"long_reviews": cat.eval_data("long_reviews")})
    assert report["exact_duplicates"] == 1 and report["duplicate_examples"][0]["train_task"] == "reviews_again"
    assert report["near_duplicates"] == 4
    assert {d["train_task"] for d in report["near_duplicate_examples"]} == {"reviews_again"}
    assert report["per_task"]["long_reviews"]["max_jaccard_train_task"] == "reviews_again"
    with pytest.raises(DataError, match="near-duplicate"):
        enforce(report, "error")


def test_enforce_warns_and_rejects_an_unknown_policy(caplog):
    report = _audit(_Planted(), "sentiment")
    enforce(report, "warn")
    assert "exact duplicate" in caplog.text and "\n" not in caplog.records[-1].getMessage()
    with pytest.raises(ConfigError, match=r"unknown leak policy 'drop' \(config key `data.on_leak`\)"):
        enforce(report, "drop")


def test_generated_suite_split_is_clean():
    from flanlab.tasks.suite.catalogue import SuiteCatalogue

    report = _audit(SuiteCatalogue(train_rows=400, eval_rows=100), "sentiment")
    assert report["exact_duplicates"] == 0 and report["near_duplicates"] == 0 and report["leaks"] == []
    assert report["heldout_examples"] == 16 and report["train_examples"] > 0
    enforce(report, "error")
