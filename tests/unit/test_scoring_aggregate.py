"""Template statistics, cluster and held-out means, best-dev-template, flat metric keys."""

from __future__ import annotations

import pytest

from flanlab.scoring.aggregate import best_dev_template, flat_metrics, summarize, task_summary
from flanlab.scoring.zeroshot import TemplateResult


def _r(task: str, cluster: str, template: str, correct: list[int]) -> TemplateResult:
    return TemplateResult(task=task, cluster=cluster, variant="instruction", template_id=template, metric="accuracy",
                          value=sum(correct) / len(correct), n=len(correct), chance=0.5, correct=correct,
                          other_metrics={"acc_norm": 0.25})


EVAL = [
    _r("a", "nli", "t0", [1, 1, 0, 0]), _r("a", "nli", "t1", [1, 1, 1, 1]), _r("a", "nli", "t2", [0, 0, 0, 1]),
    _r("b", "nli", "t0", [0, 0, 0, 0]),
    _r("c", "sent", "t0", [1, 0, 1, 0]), _r("c", "sent", "t1", [0, 0, 0, 0]),
]


def test_task_summary_statistics_over_templates():
    s = task_summary(EVAL, n_resamples=200)["a"]
    assert s["mean"] == pytest.approx(7 / 12) and s["median"] == 0.5 and s["max"] == 1.0 and s["min"] == 0.25
    assert s["std"] == pytest.approx(0.3118, abs=1e-4) and s["per_template"] == {"t0": 0.5, "t1": 1.0, "t2": 0.25}
    assert s["metrics"] == {"acc_norm": 0.25} and s["ci_low"] <= s["mean"] <= s["ci_high"]


def test_cluster_and_heldout_means_weight_tasks_then_clusters_equally():
    block = summarize(EVAL)
    assert block["clusters"] == pytest.approx({"nli": (7 / 12 + 0) / 2, "sent": 0.25})
    assert block["mean"] == pytest.approx(((7 / 12) / 2 + 0.25) / 2)


def test_best_dev_template_is_chosen_on_dev_and_reported_on_eval():
    dev = [_r("a", "nli", "t0", [1, 1]), _r("a", "nli", "t1", [0, 0]), _r("a", "nli", "t2", [1, 1]),
           _r("c", "sent", "t0", [0, 1]), _r("c", "sent", "t1", [1, 1])]
    best = best_dev_template(dev, EVAL)
    assert best["a"]["template"] == "t0" and best["a"]["eval"] == 0.5  # tie with t2: the first wins
    assert best["c"]["template"] == "t1" and best["c"]["eval"] == 0.0  # dev winner can lose on eval
    block = summarize(EVAL, n_resamples=100, dev=dev)
    assert block["best_dev"] == best
    metrics = flat_metrics("zeroshot", "instruction", block)
    assert metrics["zeroshot/instruction/best_dev/cluster/nli"] == 0.5
    assert metrics["zeroshot/instruction/best_dev/mean"] == pytest.approx(0.25)
    assert metrics["zeroshot/instruction/mean"] == metrics["zeroshot/instruction/heldout_mean"]
    assert metrics["zeroshot/instruction/a/max"] == 1.0 and metrics["zeroshot/instruction/a/acc_norm"] == 0.25
    assert metrics["zeroshot/instruction/mean_ci_low"] <= metrics["zeroshot/instruction/mean"]
