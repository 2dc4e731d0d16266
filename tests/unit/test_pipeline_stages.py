"""``run_cell``'s stages one at a time on a tiny control-suite cell: ``prepare`` decides the split and the scored
rows before any model exists, ``load_cell_model`` builds the model, ``train_stage`` trains and audits,
``score_stage`` scores held-out and trained tasks through the same entry, ``write_results`` writes last."""

from __future__ import annotations

import json

import pytest
from hydra import compose, initialize_config_dir

from flanlab.models.peft import is_peft
from flanlab.pipeline import cell_header, load_cell_model, prepare, score_stage, train_stage, write_results
from flanlab.tracking.run import NullTracker
from tests.conftest import CONF_DIR

TINY = ["tasks=control", "heldout=control", "tasks.train_rows=32", "tasks.eval_rows=8", "train.steps=2",
        "train.log_every=1", "train.batch_size=4", "train.progress=false", "data.max_eval_per_task=5",
        "data.indist_eval_per_task=3", "logger=none", "scoring.bootstrap_resamples=20"]


def _cfg(tmp_path, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=[*TINY, *overrides, f"paths.cache_dir={tmp_path}"])


@pytest.fixture(scope="module")
def cell(tmp_path_factory):
    """A prepared, trained and scored cell, kept stage by stage."""
    tmp = tmp_path_factory.mktemp("stages")
    cfg = _cfg(tmp, "template=instruction")
    prep = prepare(cfg)
    loaded = load_cell_model(cfg, prep)
    results, metrics = cell_header(cfg, prep, loaded), {}
    train_stage(cfg, prep, loaded, NullTracker(), tmp, results, metrics)
    score_stage(cfg, prep, loaded, results, metrics)
    return {"cfg": cfg, "prep": prep, "loaded": loaded, "results": results, "metrics": metrics, "dir": tmp}


def test_prepare_splits_and_samples_before_any_model(tmp_path):
    prep = prepare(_cfg(tmp_path, "template=instruction"))
    assert list(prep.split.heldout) == ["choose", "presence"]
    heldout_tasks = {t for c in prep.split.heldout for t in prep.catalogue.clusters[c]}
    assert heldout_tasks.isdisjoint(prep.train_tasks) and set(prep.heldout_rows) == heldout_tasks
    assert {len(rows) for rows in prep.heldout_rows.values()} == {5}
    assert {len(rows) for rows in prep.dev.values()} == {8}  # best_dev_rows (32) capped by the dev split
    oracle = prepare(_cfg(tmp_path, "template=oracle"))
    assert heldout_tasks <= set(oracle.train_tasks)  # the oracle control trains the held-out tasks too


def test_load_cell_model_wraps_lora_only_when_asked(tmp_path):
    cfg = _cfg(tmp_path, "template=instruction")
    prep = prepare(cfg)
    assert not is_peft(load_cell_model(cfg, prep).model)
    assert is_peft(load_cell_model(_cfg(tmp_path, "template=instruction", "train.peft=lora"), prep).model)


def test_train_stage_records_training_ambiguity_and_the_audit(cell):
    train, results = cell["results"]["train"], cell["results"]
    assert train["steps"] == 2 and [s for s, _ in train["losses"]] == [1, 2] and train["examples"] > 0
    assert 0.5 <= results["data"]["ambiguity"] <= 1.0 and cell["metrics"]["data/ambiguity"] == results["data"][
        "ambiguity"]
    assert (cell["dir"] / "leakage_audit.json").is_file() and results["audit"]["exact_duplicates"] == 0


def test_score_stage_scores_heldout_and_trained_tasks_through_one_entry(cell):
    results, metrics = cell["results"], cell["metrics"]
    heldout, indist = results["zeroshot"]["instruction"], results["indist"]["instruction"]
    for block in (heldout, indist):  # the same stored summary shape for both
        assert {"templates", "tasks", "clusters", "mean", "cis"} <= set(block)
    assert set(heldout["clusters"]) == {"choose", "presence"}
    assert set(indist["clusters"]) == {"recall", "presence_seen", "gap"}
    assert metrics["zeroshot/instruction/mean"] == heldout["mean"] and metrics["indist/instruction/mean"] == indist[
        "mean"]


def test_write_results_writes_results_json_last(cell, tmp_path):
    results, metrics = dict(cell["results"]), dict(cell["metrics"])
    write_results(tmp_path, cell["prep"], results, metrics, 0.0, NullTracker())
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["metrics"]["data/skipped_rows"] == 0 and saved["bad_rows"]["policy"] == "skip"
    assert saved["zeroshot"]["instruction"]["mean"] == cell["metrics"]["zeroshot/instruction/mean"]
    assert not list(tmp_path.glob("*.tmp*"))
