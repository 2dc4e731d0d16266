"""The CoT study's 2×2 table, baselines and paired differences from in-memory cells."""

from __future__ import annotations

import numpy as np
import pytest

from flanlab.analysis.collect import arm_of, group_cells
from flanlab.analysis.cot import build_cot
from flanlab.analysis.cot_report import cot_markdown, plot_cot
from flanlab.analysis.stats import summarize


def _template(task: str, tid: str, correct: list[int], cot: bool, missing: int = 0) -> dict:
    preds = [{"gold": "yes" if i % 3 else "no", "picked": ""} for i in range(len(correct))]
    extra = {"missing_marker": float(missing), "missing_marker_rate": missing / len(correct),
             "cot_lenient_acc": float(np.mean(correct))} if cot else {"chance_given_type": 0.5, "majority": 0.5}
    return {"task": task, "cluster": "steps", "template_id": tid, "correct": correct, "n": len(correct),
            "chance": None if cot else 0.2, "other_metrics": extra, "predictions": preds, "pick_rate": {}}


def _cell(arm: str, seed: int, direct: float, cot: float, missing: int) -> dict:
    rng = np.random.default_rng(seed + 10 * len(arm))
    block = lambda p, c: {"templates": [_template(t, tid, list((rng.random(30) < p).astype(int)), c, missing)  # noqa: E731
                                        for t in ("verify_place", "verify_food") for tid in ("a", "b")], "tasks": {}}
    info = {"arm": arm, "train_variant": "instruction", "seed": seed, "model": "tiny_t5", "heldout": ["steps"]}
    return {"cell": info,
            "model": {"source": "config"}, "zeroshot": {"instruction": block(direct, False), "cot": block(cot, True)},
            "dir": f"{arm}{seed}"}


def test_two_by_two_with_baselines_and_paired_differences(tmp_path):
    cells = [_cell(a, s, d, c, m) for s in (0, 1, 2) for a, d, c, m in
             (("instruction", 0.6, 0.1, 25), ("instruction+cot0.15", 0.6, 0.9, 1))]
    groups = group_cells(cells, lambda c, v: (arm_of(c), v))
    ablation, _ = summarize(groups, ["arm", "eval_variant"], n_resamples=200)
    tables = build_cot(groups, ablation, cells, n_resamples=200)
    table = tables["table"].set_index(["arm", "scored"])
    assert table.loc[("instruction+cot0.15", "CoT"), "score"] > 0.8 > table.loc[("instruction", "CoT"), "score"]
    assert table.loc[("instruction", "CoT"), "missing_marker"] == 3 * 4 * 25
    assert table.loc[("instruction+cot0.15", "direct"), "cot_in_training"]
    base = tables["baselines"].set_index("baseline")["score"]
    assert base.iloc[0] == pytest.approx(0.2) and base.iloc[1] == pytest.approx(0.5)
    assert 0.6 < base.iloc[2] < 0.7  # 2 of 3 golds are "yes"
    diffs = tables["differences"].set_index("comparison")
    gain = diffs.loc["instruction+cot0.15 − instruction, scored CoT"]
    assert gain["diff"] > 0.6 and gain["ci_low"] > 0 and gain["p_value"] < 0.05 and gain["seeds"] == 3
    assert len(diffs) == 4 and diffs["p_holm"].notna().all()
    text = cot_markdown(tables)
    assert "scored CoT" in text and "missing marker" in text and "majority answer" in text
    assert plot_cot(tables["table"], tables["baselines"]) is not None
