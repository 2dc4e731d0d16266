"""Pinned numbers, torchtune-style: one tiny cell's training losses and scores, asserted to the digit.

A refactor that keeps behaviour keeps these numbers; one that changes training, rendering, batching or
scoring fails here loudly. Losses are compared within 1e-5 (float summation order may differ between CPU
kernels); the mixture hash, the counts and the accuracies (fractions of whole examples) exactly.
Re-pin only for a change that is meant to alter behaviour, and say so in the commit message.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from flanlab.analysis.sweep_report import write_report
from flanlab.pipeline import run_cell
from flanlab.tracking.offline import offline_runs, run_summary
from tests.conftest import CONF_DIR

pytestmark = pytest.mark.slow

TINY = ["tasks=control", "heldout=control", "+debug=tiny", "logger=none"]  # conf/debug/tiny.yaml: 12 steps

# Measured at commit 848c6c4 (before the issue-17 restructuring), 1 thread.
PINNED = {
    "tiny_t5": {"losses": [(4, 7.320907473564148), (8, 6.880995154380798), (12, 5.732486605644226)],
                "scores": [0.3402777777777778, 0.20833333333333331, 0.4722222222222222, 0.1875],
                "ci": [0.2013888888888889, 0.4722222222222222]},
    "tiny_causal": {"losses": [(4, 6.169370770454407), (8, 5.885637521743774), (12, 5.50644838809967)],
                    "scores": [0.3402777777777778, 0.2638888888888889, 0.41666666666666663, 0.20138888888888892],
                    "ci": [0.1736111111111111, 0.5]},
}
SCORE_KEYS = ["zeroshot/instruction/mean", "zeroshot/instruction/cluster/choose",
              "zeroshot/instruction/cluster/presence", "indist/instruction/mean"]


def _cell(tmp_path, *overrides: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*TINY, *overrides, f"paths.cache_dir={tmp_path / 'cache'}"])
    return run_cell(cfg, tmp_path / "cell")


@pytest.fixture(scope="module")
def t5_cell(tmp_path_factory):
    """The tiny T5 instruction cell, logged to a real offline W&B run."""
    tmp = tmp_path_factory.mktemp("t5")
    before = {k: os.environ.get(k) for k in ("WANDB_MODE", "WANDB_DIR")}
    os.environ.update(WANDB_MODE="offline", WANDB_DIR=str(tmp))
    try:
        return tmp, _cell(tmp, "template=instruction", "model=tiny_t5", "logger=wandb")
    finally:
        for k, v in before.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


@pytest.mark.parametrize("model", ["tiny_t5", "tiny_causal"])
def test_a_tiny_cell_keeps_its_numbers(tmp_path, model, t5_cell):
    saved = t5_cell[1] if model == "tiny_t5" else _cell(tmp_path, "template=instruction", f"model={model}")
    pinned = PINNED[model]
    m = saved["metrics"]
    assert saved["train"]["mixture_hash"] == "2a514406196d533f" and saved["train"]["examples"] == 448
    assert [step for step, _ in saved["train"]["losses"]] == [step for step, _ in pinned["losses"]]
    assert [loss for _, loss in saved["train"]["losses"]] == pytest.approx([x for _, x in pinned["losses"]], abs=1e-5)
    assert [m[k] for k in SCORE_KEYS] == pytest.approx(pinned["scores"], abs=1e-12)
    assert [m["zeroshot/instruction/mean_ci_low"], m["zeroshot/instruction/mean_ci_high"]] == pytest.approx(
        pinned["ci"], abs=1e-12)


def test_report_results_and_wandb_agree_on_the_cells_scores(t5_cell):
    """One cell's cluster scores and held-out mean: results.json's stored block, the W&B summary, and both report
    tables (the long table with CIs and the wide one) carry the same numbers."""
    tmp, saved = t5_cell
    stored = json.loads((tmp / "cell" / "results.json").read_text())["zeroshot"]["instruction"]
    assert stored["clusters"] == saved["zeroshot"]["instruction"]["clusters"]
    (run,) = offline_runs(tmp)
    summary = run_summary(run)["summary"]
    write_report(tmp / "cell", tmp / "report", figures=False, html=False, n_resamples=50)
    long = pd.read_csv(tmp / "report" / "report_table.csv")
    long = long[(long["arm"] == "instruction") & (long["eval_variant"] == "instruction")].set_index("cluster")
    wide = pd.read_csv(tmp / "report" / "ablation_table.csv").set_index("eval_variant")
    for cluster, score in [*stored["clusters"].items(), ("mean", stored["mean"])]:
        key = "zeroshot/instruction/" + ("mean" if cluster == "mean" else f"cluster/{cluster}")
        assert summary[key] == pytest.approx(score, abs=1e-12), key
        assert long.loc[cluster, "score"] == pytest.approx(score, abs=1e-12), cluster
        assert wide.loc["instruction", cluster] == pytest.approx(score, abs=1e-12), cluster
    assert set(stored["clusters"]) == {"choose", "presence"}
