"""The leakage audit finds planted duplicates and n-gram overlap, and nothing in a clean split."""

from __future__ import annotations

from collections.abc import Mapping

import datasets

from flanlab.audit import leakage_audit, ngrams, normalize_text
from flanlab.splits import make_split
from tests.conftest import ToyCatalogue


def test_normalize_and_ngrams():
    assert normalize_text("The  RED box, is blue!") == "the red box is blue"
    assert ngrams("a b c", 2) == {("a", "b"), ("b", "c")} and ngrams("a b", 3) == set()


class _Planted(ToyCatalogue):
    """Held-out sentiment rows: one copied from a training task, one sharing a long word run."""

    def load(self, name: str, split: str) -> datasets.Dataset:
        rows = [{**r, "sentence": f"{name} {split} {r['sentence']}"} if "sentence" in r else r
                for r in super().load(name, split).to_list()]
        if name == "toy_sent" and split == "validation":
            rows[0] = {"sentence": "TOY_NLI train: the red box, is RED!", "label": 0}  # toy_nli train row 0, normalised
            rows[1] = {"sentence": "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 tail", "label": 1}
        if name == "toy_nli" and split == "train":
            rows[2] = {"sentence": "head w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13", "label": 0}
        return datasets.Dataset.from_list(rows)


def _audit(catalogue, held: str) -> Mapping:
    split = make_split(catalogue.clusters, [held], {})
    train = {t: 6 for c in split.train for t in catalogue.clusters[c]}
    heldout = {t: catalogue.eval_data(t).select(range(4)) for t in catalogue.clusters[held]}
    return leakage_audit(catalogue, split, train, heldout)


def test_planted_duplicate_and_overlap_are_found():
    report = _audit(_Planted(), "sentiment")
    assert report["exact_duplicates"] == 1
    assert report["duplicate_examples"][0] == {
        "heldout_task": "toy_sent", "row": 0, "train_task": "toy_nli", "text": "toy_nli train the red box is red"}
    assert report["ngram_overlap_rate"] == 0.25  # only row 1 of the 4 shares a 13-gram
    assert report["train_tasks"] == {"toy_nli": "nli", "toy_para": "paraphrase", "toy_gen": "misc"}


def test_generated_suite_split_is_clean():
    from flanlab.tasks.generated import SuiteCatalogue

    report = _audit(SuiteCatalogue(train_rows=400, eval_rows=100), "sentiment")
    assert report["exact_duplicates"] == 0
