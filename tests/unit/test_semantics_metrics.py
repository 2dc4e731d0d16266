"""The prompt-semantics metrics (flanlab/analysis/semantics.py) on constructed groups with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from flanlab.analysis.collect import GroupData
from flanlab.analysis.semantics import (
    arm_rank_stability,
    ensemble_correct,
    floor_table,
    override_table,
    reliance_table,
)
from flanlab.analysis.stats import MEAN_ROW
from flanlab.scoring.zeroshot import override_flags

TASKS = [("choose", "a"), ("presence", "b")]


def group(correct: float | np.ndarray, *, override: np.ndarray | None = None, seeds: int = 3, templates: int = 2,
          n: int = 40, chance: float = 0.2) -> GroupData:
    arr = np.broadcast_to(np.asarray(correct, dtype=float), (seeds, templates, n)).copy()
    meta = {k: {"chance": chance, "chance_given_type": 0.5, "majority": 0.3, "pick_rate": {}} for k in TASKS}
    return GroupData(list(range(seeds)), {k: arr.copy() for k in TASKS}, {}, meta, {"train_variant": "x"},
                     {k: override.copy() for k in TASKS} if override is not None else {})


def _mean(table, **where):
    row = table
    for k, v in where.items():
        row = row[row[k] == v]
    return row[row["cluster"] == MEAN_ROW].iloc[0]


def test_reliance_is_instruction_minus_null_on_the_same_items():
    rng = np.random.default_rng(0)
    right = (rng.random((3, 2, 40)) < 0.8).astype(float)
    groups = {("instruction", "instruction"): group(right), ("instruction", "null_prompt"): group(0.0, templates=1)}
    row = _mean(reliance_table(groups, n_resamples=200), arm="instruction")
    assert row["reliance"] == pytest.approx(right.mean())
    assert row["ci_low"] < row["reliance"] < row["ci_high"] and row["p_value"] < 0.05
    same = {("a", "instruction"): group(right), ("a", "null_prompt"): group(right)}
    assert _mean(reliance_table(same, n_resamples=200), arm="a")["reliance"] == 0.0


def test_a_model_that_always_follows_the_stated_task_has_override_rate_1():
    follows = np.ones((3, 2, 40))
    follows[:, :, :10] = np.nan  # items where the stated and the original answer agree tell nothing
    groups = {("m", "delusive_task"): group(1.0, override=follows),
              ("m", "negated"): group(0.0, override=np.zeros((3, 2, 40)))}
    table = override_table(groups, n_resamples=200)
    row = _mean(table, eval_variant="delusive_task")
    assert row["override"] == 1.0 and row["ci_low"] == row["ci_high"] == 1.0
    assert row["items"] == 2 * 3 * 2 * 30
    assert _mean(table, eval_variant="negated")["override"] == 0.0


def test_override_flags_leave_out_items_whose_two_answers_agree():
    preds = [{"picked_index": 1, "stated_index": 1, "original_index": 0},
             {"picked_index": 0, "stated_index": 1, "original_index": 0},
             {"picked_index": 2, "stated_index": 1, "original_index": 0},
             {"picked_index": 0, "stated_index": 0, "original_index": 0},
             {"picked_index": 0, "stated_index": None, "original_index": 0}]
    assert override_flags(preds) == [1, 0, 0, None, None]
    assert override_flags([{"picked_index": 0}]) is None


def test_format_floors_average_tasks_then_clusters():
    import pandas as pd

    table = floor_table({("m", "instruction"): group(1.0)}, pd.DataFrame(columns=["arm", "eval_variant"]))
    by = {(r["floor"].split(" (")[0], r["cluster"]): r["score"] for _, r in table.iterrows()}
    assert by[("uniform over all options", MEAN_ROW)] == pytest.approx(0.2)
    assert by[("uniform over the gold's answer type", MEAN_ROW)] == pytest.approx(0.5)
    assert by[("majority answer", "choose")] == pytest.approx(0.3)


def test_kendall_tau_is_1_when_every_template_orders_the_arms_alike_and_minus_1_when_reversed():
    alike = {a: group(np.array([v, v])[None, :, None]) for a, v in (("x", 0.2), ("y", 0.5), ("z", 0.9))}
    assert arm_rank_stability(alike) == pytest.approx(1.0)
    flipped = {a: group(np.array([v, 1 - v])[None, :, None]) for a, v in (("x", 0.2), ("y", 0.5), ("z", 0.9))}
    assert arm_rank_stability(flipped) == pytest.approx(-1.0)
    assert np.isnan(arm_rank_stability(dict(list(alike.items())[:2])))


def test_the_template_ensemble_votes_with_normalised_log_probabilities():
    # Template 1 is sure of option 0 (wrong), template 2 mildly prefers 1 (right); summed distributions pick 0.
    t1 = {"predictions": [{"loglik": [0.0, -9.0], "gold_index": 1}, {"loglik": [-3.0, -1.0], "gold_index": 1}]}
    t2 = {"predictions": [{"loglik": [-1.0, -0.5], "gold_index": 1}, {"loglik": [-2.0, -1.0], "gold_index": 1}]}
    assert ensemble_correct([t1, t2]) == [0.0, 1.0]
    assert ensemble_correct([t1, {"predictions": []}]) is None
