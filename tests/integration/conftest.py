"""Session fixtures for the torchrun tests: the tiny cell in one process, and on two torchrun nodes (DDP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.torchrun_cells import CELL, GLOBAL_BATCH, compose_cell, free_port, torchrun, two_nodes


@pytest.fixture(scope="session")
def torchrun_root(tmp_path_factory) -> Path:
    """One folder and one cache (the tokenizer is trained once) for every torchrun cell of the session."""
    return tmp_path_factory.mktemp("torchrun")


@pytest.fixture(scope="session")
def single_cell(torchrun_root) -> dict[str, Any]:
    """The cell in this process, the whole global batch in one process."""
    from flanlab.pipeline import run_cell

    cfg = compose_cell([*CELL, f"train.batch_size={GLOBAL_BATCH}", f"paths.cache_dir={torchrun_root / 'cache'}"])
    return run_cell(cfg, torchrun_root / "single")


@pytest.fixture(scope="session")
def two_node_run(torchrun_root, single_cell) -> tuple[Path, list[str]]:
    """``torchrun --nnodes 2 --nproc_per_node 1`` twice (node ranks 0 and 1, c10d on localhost), half the global
    batch each, with no ``hydra.run.dir``: the working folder and the two torchrun outputs. Runs after
    ``single_cell``, which leaves the trained tokenizer in the shared cache."""
    workdir = torchrun_root / "two_nodes"
    overrides = [*CELL, f"train.batch_size={GLOBAL_BATCH // 2}"]
    return workdir, torchrun(two_nodes(free_port()), overrides, workdir, torchrun_root / "cache")
