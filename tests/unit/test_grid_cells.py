"""The cells experiments/slurm/cells.py prints: a command line's sweep combined with an experiment's grid."""

from __future__ import annotations

from flanlab.sweeps.grid import command_line_cells
from tests.conftest import CONF_DIR


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
