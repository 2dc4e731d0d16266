"""Two torchrun "nodes" on one machine train one tiny cell through ``python -m flanlab``: both ranks find the same
cell folder without a hand-passed ``hydra.run.dir``, and the losses equal one process with the same global batch.

Tolerance: every logged loss within 1e-4 (the loss is normalised by the global batch's target tokens, so the two
layouts differ only in floating-point summation order).
"""

from __future__ import annotations

import pytest

from tests.integration.torchrun_cells import (
    CELL,
    GLOBAL_BATCH,
    assert_losses_match,
    assert_scores_match,
    cell_folders,
    expected_folder,
    read_results,
)

pytestmark = pytest.mark.slow


def test_two_nodes_share_one_cell_folder_and_match_one_process(two_node_run, single_cell):
    workdir, outputs = two_node_run
    folder = expected_folder(workdir, [*CELL, f"train.batch_size={GLOBAL_BATCH // 2}"])
    assert cell_folders(workdir) == [folder]  # each rank's Hydra made its run folder: one name, derived alike
    assert (folder / ".hydra" / "config.yaml").is_file()
    two = read_results(folder)
    assert two["config"]["train"]["batch_size"] == GLOBAL_BATCH // 2
    assert_losses_match(single_cell, two)
    assert_scores_match(single_cell, two)  # rank 0 scored the model both ranks trained
    assert sum("zeroshot/instruction/mean" in out for out in outputs) == 1  # only rank 0 scored and reported
