"""Held-out curves through whole tiny cells (issue 29): curves on or off, the same final weights and scores; a
cell stopped after a checkpoint and run again continues its curve to the uninterrupted one; the offline W&B run
holds the curve series against the step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from flanlab.pipeline import run_cell
from flanlab.tracking.offline import offline_runs, run_history
from flanlab.training import checkpoint as ckpt
from tests.conftest import CONF_DIR

pytestmark = pytest.mark.slow
CELL = ["+debug=tiny", "tasks=control", "heldout=control", "template=instruction", "model.config.dropout_rate=0.1",
        "train.checkpoint_every=4", "train.keep_checkpoints=3", "scoring.bootstrap_resamples=0"]
CURVES = ["scoring.curve_every=4", "scoring.curve_rows=4"]


def _run(tmp_path: Path, name: str, *overrides: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*CELL, f"paths.cache_dir={tmp_path / 'cache'}", *overrides])
    run_cell(cfg, tmp_path / name)
    return json.loads((tmp_path / name / "results.json").read_text())


def _final_weights(cell: Path) -> dict[str, torch.Tensor]:
    return torch.load(ckpt.checkpoints(cell / "checkpoints")[-1] / ckpt.STATE_FILE, weights_only=False)["model"]


def _curve(results: dict) -> list[dict]:
    return [{k: v for k, v in p.items() if k != "seconds"} for p in results["curve"]]


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> Path:
    """The same cell with curves off (no W&B) and on (W&B offline)."""
    tmp = tmp_path_factory.mktemp("curves")
    _run(tmp, "off", "logger=none")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_MODE", "offline")
        mp.setenv("WANDB_DIR", str(tmp / "wandb"))
        _run(tmp, "on", "logger=wandb", *CURVES)
    return tmp


def test_curves_leave_the_final_weights_and_scores_unchanged(cells):
    off, on = (json.loads((cells / n / "results.json").read_text()) for n in ("off", "on"))
    a, b = _final_weights(cells / "off"), _final_weights(cells / "on")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert on["train"]["losses"] == off["train"]["losses"]
    assert on["zeroshot"]["instruction"]["mean"] == off["zeroshot"]["instruction"]["mean"]
    assert on["indist"] == off["indist"] and "curve" not in off
    points = on["curve"]
    assert [p["step"] for p in points] == [0, 4, 8, 12] and {p["variant"] for p in points} == {"instruction"}
    assert set(points[0]["score"]["clusters"]) == {"choose", "presence"} and points[-1]["indist"]["mean"] >= 0
    for task, entry in points[-1]["tasks"].items():  # the first rows of what the final score used
        final = [t for t in on["zeroshot"]["instruction"]["templates"] if t["task"] == task]
        assert [t["correct"][:len(entry["correct"][0])] for t in final] == entry["correct"]
    assert on["cell"]["key"] != off["cell"]["key"]  # a cell with curves is another cell


def test_the_offline_wandb_run_has_the_curve_series(cells):
    (run,) = offline_runs(cells / "on")
    rows = [r for r in run_history(run) if "curve/instruction/mean/score" in r]
    assert [int(r["_step"]) for r in rows] == [0, 4, 8, 12]
    assert {"curve/instruction/presence/acc_given_type", "curve/instruction/choose/type_acc",
            "curve/tokens_seen", "curve/indist/instruction/mean"} <= set(rows[-1])
    results = json.loads((cells / "on" / "results.json").read_text())
    assert [r["curve/instruction/mean/score"] for r in rows] == pytest.approx(
        [p["score"]["mean"] for p in results["curve"]])


class Stopped(Exception):
    """Stands in for a killed process (tests/integration/test_resume.py kills a real one)."""


def test_a_cell_stopped_after_a_checkpoint_continues_its_curve(cells, tmp_path, monkeypatch):
    whole = json.loads((cells / "on" / "results.json").read_text())
    save = ckpt.save

    def stop_after_step_8(root, step, state, keep=1):
        path = save(root, step, state, keep)
        if step == 8:
            raise Stopped
        return path

    monkeypatch.setattr(ckpt, "save", stop_after_step_8)
    with pytest.raises(Stopped):
        _run(tmp_path, "cell", "logger=none", *CURVES)
    monkeypatch.setattr(ckpt, "save", save)
    resumed = _run(tmp_path, "cell", "logger=none", *CURVES)
    assert resumed["train"]["resumed_from"] == 8
    assert _curve(resumed) == _curve(whole)
    assert resumed["zeroshot"]["instruction"]["mean"] == whole["zeroshot"]["instruction"]["mean"]
