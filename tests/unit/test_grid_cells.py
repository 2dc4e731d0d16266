"""The cells experiments/slurm/cells.py prints: a command line's sweep combined with an experiment's grid."""

from __future__ import annotations

import csv

from hydra import compose, initialize_config_dir

from flanlab.sweeps.grid import command_line_cells
from flanlab.sweeps.keys import cell_dir
from tests.conftest import CONF_DIR, ROOT


def test_a_plain_sweep_gives_one_cell_per_value():
    cells = command_line_cells(["template=untuned,instruction", "heldout.clusters=[sentiment]"], CONF_DIR)
    assert cells == [["template=untuned", "heldout.clusters=[sentiment]"],
                     ["template=instruction", "heldout.clusters=[sentiment]"]]


def test_an_experiments_grid_is_combined_with_the_command_line():
    cells = command_line_cells(["+experiment=ablation", "seed=0,1", "train.steps=5"], CONF_DIR)
    templates = ["oracle", "instruction", "no_template", "dataset_name", "untuned"]  # conf/experiment/ablation.yaml
    assert len(cells) == len(templates) * 2
    assert [c[0] for c in cells[::2]] == [f"template={t}" for t in templates]
    assert {c[-2] for c in cells} == {"seed=0", "seed=1"}  # the command line's seed replaces the experiment's
    assert all("train.steps=5" in c and "heldout=control" in c for c in cells)


def test_the_exported_ablation_cells_keep_their_folder_names():
    """Dropping `heldout.name` (issue 17) left every cell key as it was: the grids still compose to the folders
    exported in experiments/positive_control (ablation and controls), so a rerun skips them."""
    cells = [c for e in ("ablation", "ablation_controls") for c in command_line_cells([f"+experiment={e}"], CONF_DIR)]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        names = {cell_dir(compose(config_name="config", overrides=c)) for c in cells}
    with (ROOT / "experiments" / "positive_control" / "grid_status.csv").open() as f:
        exported = {row["cell"] for row in csv.DictReader(f)}
    assert len(exported) == 21 and names == exported
