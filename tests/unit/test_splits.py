"""Held-out logic: FLAN's related-cluster rules, and no held-out task in the training mixture."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from flanlab.data.mixture import build_mixture
from flanlab.errors import ConfigError
from flanlab.splits import Split, make_split
from tests.conftest import CONF_DIR

# The rules every run uses, read from the real config (not a copy that could drift from it).
RELATED = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "split" / "flan.yaml").related)
ALL = ["nli", "paraphrase", "sentiment", "reading_comprehension", "commonsense",
       "reading_comprehension_with_commonsense", "misc"]


def test_flan_yaml_holds_flans_rules_both_ways():
    assert set(RELATED) == {"nli", "paraphrase", "reading_comprehension", "commonsense",
                            "reading_comprehension_with_commonsense"}
    for cluster, related in RELATED.items():
        for other in related:
            assert cluster in RELATED.get(other, []), f"{cluster} -> {other} has no rule back"


def test_nli_also_drops_paraphrase_and_back():
    s = make_split(ALL, ["nli"], RELATED)
    assert "paraphrase" not in s.train and s.removed == {"paraphrase": "related to held-out cluster 'nli'"}
    assert "nli" not in make_split(ALL, ["paraphrase"], RELATED).train


@pytest.mark.parametrize("held", ["reading_comprehension", "commonsense"])
def test_rc_or_commonsense_drops_rc_with_commonsense(held):
    assert "reading_comprehension_with_commonsense" not in make_split(ALL, [held], RELATED).train


def test_rc_with_commonsense_drops_both_parents():
    train = make_split(ALL, ["reading_comprehension_with_commonsense"], RELATED).train
    assert "reading_comprehension" not in train and "commonsense" not in train


def test_split_refuses_to_leak():
    with pytest.raises(ConfigError, match="leaks"):
        Split(heldout=("nli",), train=("nli", "misc"))


def test_unknown_cluster_names_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown cluster 'nly'.*Did you mean 'nli'.*Valid:"):
        make_split(ALL, ["nly"], RELATED)


def test_holding_out_everything_is_an_error():
    with pytest.raises(ConfigError, match="leaves no training cluster"):
        make_split(["nli", "paraphrase"], ["nli"], RELATED)


def test_eval_only_may_hold_out_everything():
    split = make_split(["nli", "paraphrase"], ["nli", "paraphrase"], RELATED, eval_only=True)
    assert split.train == () and split.heldout == ("nli", "paraphrase")


def test_mixture_never_holds_a_heldout_task(toy_catalogue):
    split = make_split(toy_catalogue.clusters, ["nli"], RELATED)
    mix = build_mixture(toy_catalogue, split, "instruction", max_per_task=10, seed=0)
    assert set(mix.examples["task"]) == {"toy_sent", "toy_gen"}
    assert set(mix.rows_per_task) == {"toy_sent", "toy_gen"}


def test_mixture_rejects_a_heldout_task_asked_for_explicitly(toy_catalogue):
    split = make_split(toy_catalogue.clusters, ["nli"], RELATED)
    with pytest.raises(ConfigError, match="may not train"):
        build_mixture(toy_catalogue, split, "instruction", max_per_task=10, seed=0, tasks=["toy_nli"])


def test_mixture_is_capped_and_deterministic(toy_catalogue):
    split = make_split(toy_catalogue.clusters, ["sentiment"], RELATED)
    a = build_mixture(toy_catalogue, split, "no_template", max_per_task=5, seed=3)
    b = build_mixture(toy_catalogue, split, "no_template", max_per_task=5, seed=3)
    assert len(a.examples) == 15 and a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != build_mixture(toy_catalogue, split, "no_template", max_per_task=5, seed=4).fingerprint()
