"""A real offline W&B run: predictions table, results artifact, summary read back from the run files."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir

from flanlab.io import atomic_write_json
from flanlab.tracking.offline import offline_runs, run_records, run_summary
from flanlab.tracking.run import TABLE_COLUMNS, is_secret, prediction_rows, start_tracker
from tests.conftest import CONF_DIR

RESULTS = {
    "cell": {"key": "abc123", "train_variant": "instruction"},
    "zeroshot": {"instruction": {"templates": [
        {"task": "t1", "cluster": "nli", "template_id": "a", "correct": [1, 0, 1],
         "predictions": [{"picked": "yes", "gold": "yes", "text": ""}, {"picked": "yes", "gold": "no", "text": ""},
                         {"picked": "no", "gold": "no", "text": ""}]},
        {"task": "t2", "cluster": "nli", "template_id": "b", "correct": [0.5, 0.25],
         "predictions": [{"picked": "a red box", "gold": "red box", "text": "a red box"},
                         {"picked": "cat", "gold": "the cat", "text": "cat"}]},
    ]}},
}


def test_prediction_rows_are_capped_round_robin():
    rows = prediction_rows(RESULTS, limit=3)
    assert [r[2] for r in rows] == ["t1", "t2", "t1"]
    assert rows[0] == ["zeroshot", "instruction", "t1", "nli", "a", 0, 1.0, "yes", "yes", ""]
    assert rows[1] == ["zeroshot", "instruction", "t2", "nli", "b", 0, 0.5, "a red box", "red box", "a red box"]
    assert len(rows[0]) == len(TABLE_COLUMNS)
    old_style = {"zeroshot": {"v": {"templates": [{"task": "t", "cluster": "c", "template_id": "a", "correct": [1]}]}}}
    assert prediction_rows(old_style, limit=5) == [["zeroshot", "v", "t", "c", "a", 0, 1.0, "", "", ""]]
    assert len(prediction_rows(RESULTS, limit=100)) == 5


def test_secret_keys_are_recognised_but_not_tokenizer():
    assert is_secret("api_key") and is_secret("hf_token") and is_secret("password")
    assert not is_secret("tokenizer") and not is_secret("keys_seen")


@pytest.mark.slow
def test_offline_run_files_hold_summary_table_and_artifact(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["logger=wandb"])
    tracker = start_tracker(cfg, name="cell", group="ablation/sweep", job_type="instruction",
                            tags=["heldout:nli", "seed:0"], output_dir=str(tmp_path),
                            choices={"template": "instruction"})
    tracker.log({"train/loss": 2.5}, step=1)
    tracker.summary({"zeroshot/instruction/mean": 0.625})
    atomic_write_json(tmp_path / "results.json", RESULTS)
    tracker.log_results(RESULTS, tmp_path / "results.json")
    tracker.finish(exit_code=0)
    (run,) = offline_runs(tmp_path)
    info = run_summary(run)
    assert info["summary"]["zeroshot/instruction/mean"] == pytest.approx(0.625)
    assert info["summary"]["predictions/rows"] == 5
    assert set(info["tags"]) == {"heldout:nli", "seed:0"}
    assert info["config"]["hydra_choices"] == {"template": "instruction"}
    assert info["exit_code"] == 0
    records = run_records(run)
    kinds = {r["type"] for r in records}
    assert "artifact" in kinds and "history" in kinds
    run_rec = next(r["run"] for r in records if r["type"] == "run")
    assert run_rec["run_group"] == "ablation/sweep" and run_rec["job_type"] == "instruction"
