"""The hierarchical bootstrap (seeds, then examples per task) and the paired test, on data with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from flanlab.analysis.collect import GroupData
from flanlab.analysis.stats import MEAN_ROW, accuracy_ratio, given_type_ratio, summarize, type_ratio
from flanlab.estimand.bootstrap import hierarchical_bootstrap, holm, paired_hierarchical_bootstrap
from flanlab.estimand.rollup import MEAN_KEY


def acc_group(arrays: dict[tuple[str, str], np.ndarray]) -> dict:
    """``key -> [S, K, N]`` per-example scores as an accuracy ratio group (denominator 1)."""
    return {k: (np.asarray(a, float), np.ones_like(a, dtype=float)) for k, a in arrays.items()}


def bernoulli_group(rng: np.random.Generator, seed_means: np.ndarray, n: int = 60, tasks: int = 4,
                    templates: int = 2) -> dict:
    """Two clusters of ``tasks // 2`` tasks; seed ``s``'s examples are correct with probability ``seed_means[s]``."""
    p = np.clip(np.asarray(seed_means, float), 0.02, 0.98)[:, None, None]
    return acc_group({(f"c{t % 2}", f"t{t}"): (rng.random((p.shape[0], templates, n)) < p).astype(float)
                      for t in range(tasks)})


def test_identical_seeds_and_many_examples_give_a_narrow_ci_around_the_truth():
    rng = np.random.default_rng(0)
    one_seed = (rng.random((1, 3, 4000)) < 0.7).astype(float)
    group = acc_group({("c", "t"): np.repeat(one_seed, 3, axis=0)})  # three seeds that agree exactly
    out = hierarchical_bootstrap(group, n_resamples=500)
    mean = out[MEAN_KEY]
    assert out["ci_kind"] == "seeds+examples"
    assert mean["value"] == pytest.approx(one_seed.mean())
    assert mean["ci_low"] < mean["value"] < mean["ci_high"]
    assert abs(mean["value"] - 0.7) < 0.02 and mean["ci_high"] - mean["ci_low"] < 0.04


def test_between_seed_spread_shows_in_the_ci_and_not_in_an_examples_only_ci():
    # Infinitely many examples: every example of a seed scores the seed's mean, so only seeds vary.
    seed_means = np.array([0.2, 0.5, 0.8])
    group = acc_group({("c", "t"): np.broadcast_to(seed_means[:, None, None], (3, 2, 50)).copy()})
    seeds = hierarchical_bootstrap(group, n_resamples=2000)[MEAN_KEY]
    assert seeds["value"] == pytest.approx(0.5)
    assert seeds["ci_low"] <= 0.3 and seeds["ci_high"] >= 0.7  # spans most of [0.2, 0.8]
    examples = hierarchical_bootstrap(group, n_resamples=2000, resample_seeds=False)[MEAN_KEY]
    assert examples["ci_high"] - examples["ci_low"] < 1e-9


def test_null_rejection_rate_is_near_nominal_and_a_real_gain_is_found():
    rng = np.random.default_rng(2026)
    null_rejections = power_rejections = 0
    for i in range(200):
        a = bernoulli_group(rng, 0.6 + rng.normal(0, 0.03, size=3))
        b = bernoulli_group(rng, 0.6 + rng.normal(0, 0.03, size=3))
        null_rejections += paired_hierarchical_bootstrap(a, b, n_resamples=300, seed=i)[MEAN_KEY]["p"] < 0.05
    for i in range(40):
        a = bernoulli_group(rng, 0.75 + rng.normal(0, 0.03, size=3))
        b = bernoulli_group(rng, 0.6 + rng.normal(0, 0.03, size=3))
        power_rejections += paired_hierarchical_bootstrap(a, b, n_resamples=300, seed=i)[MEAN_KEY]["p"] < 0.05
    assert null_rejections / 200 <= 0.15
    assert power_rejections / 40 >= 0.8


def test_paired_test_uses_the_same_seeds_and_examples_for_both_arms():
    rng = np.random.default_rng(3)
    base = rng.random((3, 2, 80))
    a, b = acc_group({("c", "t"): base + 0.1}), acc_group({("c", "t"): base})
    out = paired_hierarchical_bootstrap(a, b, n_resamples=400)
    # Every resample shifts both arms' draws together: the difference never moves from 0.1.
    assert out[MEAN_KEY]["diff"] == pytest.approx(0.1)
    assert out[MEAN_KEY]["ci_low"] == pytest.approx(0.1) and out[MEAN_KEY]["ci_high"] == pytest.approx(0.1)
    assert out[MEAN_KEY]["p"] < 0.01
    same = paired_hierarchical_bootstrap(b, b, n_resamples=400)[MEAN_KEY]
    assert same["diff"] == 0.0 and same["p"] == 1.0
    with pytest.raises(ValueError, match="same tasks"):
        paired_hierarchical_bootstrap(a, acc_group({("c", "t"): base[:, :, :10]}))


def test_holm_on_known_p_values():
    adjusted = holm([0.01, 0.04, 0.03, 0.005, np.nan])
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06.
    np.testing.assert_allclose(adjusted[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(adjusted[4])
    np.testing.assert_allclose(holm([0.3, 0.02]), [0.3, 0.04])
    assert holm([0.5, 0.9]).tolist() == [1.0, 1.0]  # capped at 1, and never below an earlier step
    assert np.isnan(holm([np.nan])).all()


def _hand_made() -> GroupData:
    """Two seeds; cluster a has two tasks (2 and 1 templates), cluster b one task; known hits."""
    correct = {
        ("a", "a1"): np.array([[[1, 1, 0, 0], [1, 1, 1, 1]], [[0, 0, 0, 0], [1, 0, 0, 0]]], float),
        ("a", "a2"): np.array([[[1, 0, 0, 0]], [[1, 1, 1, 0]]], float),
        ("b", "b1"): np.array([[[1, 1], [0, 1], [0, 0]], [[1, 1], [1, 1], [1, 1]]], float),
    }
    types = {k: np.ones_like(v) for k, v in correct.items()}
    types[("a", "a1")][0, 0] = [1, 0, 1, 0]  # template 0 of seed 0: two right-type answers, one of them correct
    return GroupData([0, 1], correct, types, {k: {"chance": 0.5, "majority": np.nan, "chance_given_type": np.nan,
                                                  "pick_rate": {}} for k in correct}, {"train_variant": "x"})


def test_estimand_is_templates_then_tasks_then_clusters_then_seeds():
    group = _hand_made()
    # seed 0: a1 = (0.5 + 1) / 2 = 0.75, a2 = 0.25 -> a = 0.5; b = (1 + 0.5 + 0) / 3 = 0.5; mean 0.5
    # seed 1: a1 = (0 + 0.25) / 2 = 0.125, a2 = 0.75 -> a = 0.4375; b = 1; mean 0.71875
    out = hierarchical_bootstrap(accuracy_ratio(group), n_resamples=50)
    assert out[("cluster", "a")]["value"] == pytest.approx((0.5 + 0.4375) / 2)
    assert out[("cluster", "b")]["value"] == pytest.approx(0.75)
    assert out[MEAN_KEY]["value"] == pytest.approx((0.5 + 0.71875) / 2)
    assert out[("task", "a", "a1")]["value"] == pytest.approx((0.75 + 0.125) / 2)
    # The pooled mean of every example is a different number.
    pooled = np.concatenate([v.ravel() for v in group.correct.values()]).mean()
    assert pooled != pytest.approx(out[MEAN_KEY]["value"])


def test_accuracy_given_type_is_a_ratio_per_template():
    group = _hand_made()
    given = hierarchical_bootstrap(given_type_ratio(group), n_resamples=20)
    # seed 0, a1: template 0 keeps examples 0 and 2 (hits 1, 0) -> 0.5; template 1 -> 1.0; a1 = 0.75 (as accuracy).
    # A plain mean of correct * type would give (1 + 0 + 0 + 0) / 4 = 0.25 for template 0 instead.
    assert given[("task", "a", "a1")]["value"] == pytest.approx((0.75 + 0.125) / 2)
    assert hierarchical_bootstrap(type_ratio(group), n_resamples=20)[("task", "a", "a1")]["value"] \
        == pytest.approx(((0.5 + 1) / 2 + 1) / 2)


def test_no_p_value_with_two_seeds_but_a_ci_over_examples():
    rng = np.random.default_rng(5)
    a, b = bernoulli_group(rng, [0.9, 0.9]), bernoulli_group(rng, [0.2, 0.2])
    out = paired_hierarchical_bootstrap(a, b, n_resamples=200)
    assert np.isnan(out[MEAN_KEY]["p"]) and out["ci_kind"] == "examples"
    assert out[MEAN_KEY]["ci_low"] > 0.5  # the CI is still shown
    groups = {(name,): GroupData([0, 1], {k: v[0] for k, v in g.items()}, {}, {}, {"train_variant": name})
              for name, g in (("ref", b), ("arm", a))}
    table, _ = summarize(groups, ["arm"], ("ref",), n_resamples=100)
    row = table[(table["arm"] == "arm") & (table["cluster"] == MEAN_ROW)].iloc[0]
    assert row["diff_vs_ref"] > 0.5 and np.isnan(row["p_value"]) and np.isnan(row["p_holm"])
    assert row["ci_kind"] == "examples"


def test_pairing_is_on_seed_values():
    rng = np.random.default_rng(6)
    x = rng.random((3, 1, 40))
    a = GroupData([0, 1, 2], {("c", "t"): x}, {}, {}, {"train_variant": "a"})
    # b holds seeds 2, 1, 0, 7 in that order, with seed 7 unmatched: after alignment a - b is exactly 0.05.
    b_arr = np.concatenate([x[::-1] - 0.05, rng.random((1, 1, 40))])
    b = GroupData([2, 1, 0, 7], {("c", "t"): b_arr}, {}, {}, {"train_variant": "b"})
    table, _ = summarize({("a",): a, ("b",): b}, ["arm"], ("b",), n_resamples=100)
    row = table[(table["arm"] == "a") & (table["cluster"] == MEAN_ROW)].iloc[0]
    assert row["paired_seeds"] == 3
    assert row["diff_vs_ref"] == pytest.approx(0.05) and row["diff_ci_high"] == pytest.approx(0.05)


def test_table_reports_the_spread_over_seeds():
    seed_means = np.array([0.2, 0.5, 0.8])
    x = np.broadcast_to(seed_means[:, None, None], (3, 2, 30)).copy()
    group = GroupData([0, 1, 2], {("c", "t"): x}, {}, {}, {"train_variant": "a"})
    table, _ = summarize({("a",): group}, ["arm"], n_resamples=200)
    row = table[table["cluster"] == MEAN_ROW].iloc[0]
    assert row["score"] == pytest.approx(0.5) and row["seed_sd"] == pytest.approx(0.3)
    assert row["ci_low"] <= 0.3 and row["ci_high"] >= 0.7
