"""The resolved-config summary a single run prints first."""

from __future__ import annotations

from hydra import compose, initialize_config_dir

from flanlab.config_summary import summary_lines
from tests.conftest import CONF_DIR


def test_the_summary_names_what_the_cell_computes():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config",
                      overrides=["+experiment=ablation", "template=dataset_name", "heldout=control", "seed=2"])
    rows = dict(line.strip().split("  ", 1) for line in summary_lines(cfg, {"model": "tiny_t5", "tasks": "control"}))
    rows = {key.strip(): value.strip() for key, value in rows.items()}
    assert rows["held out"] == "['choose', 'presence']"
    assert rows["model"] == "tiny_t5 (seq2seq, config)"
    assert rows["tasks"] == "control (ControlCatalogue)"
    assert rows["template"] == "dataset_name: train dataset_name, score ['dataset_name', 'instruction']"
    assert "steps 800" in rows["train"] and "peft" not in rows["train"]
    assert rows["data"].endswith("seed 2")
