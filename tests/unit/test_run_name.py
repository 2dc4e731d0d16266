"""A single run's folder: a timestamp for one process, the cell's folder name for every rank under torchrun."""

from __future__ import annotations

import time

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

import flanlab.sweeps  # noqa: F401 - registers the resolvers
from flanlab.sweeps.keys import cell_dir, run_name
from tests.conftest import CONF_DIR

CELL = ["template=instruction", "heldout=nli", "seed=3"]


def _run_dir(overrides: list[str]) -> tuple[str, str]:
    """``hydra.run.dir`` as Hydra resolves it, in a fresh composition, and the cell's folder name."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
        return str(cfg.hydra.run.dir), cell_dir(cfg)


def test_one_process_keeps_the_timestamp_and_many_get_the_cell_folder():
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=CELL)
    assert run_name(cfg, "2026-01-01_00-00-00", world_size=1) == "2026-01-01_00-00-00"
    assert run_name(cfg, "2026-01-01_00-00-00", world_size=2) == cell_dir(cfg)
    assert cell_dir(cfg).startswith("instruction__nli__s3__")


def test_under_torchrun_the_folder_holds_no_timestamp(monkeypatch):
    """Each rank composes on its own; the folder comes from the config alone, so no clock enters it."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    first, name = _run_dir(CELL)
    second, _ = _run_dir(CELL)
    assert first == second == f"outputs/default/{name}"
    other, _ = _run_dir([*CELL[:-1], "seed=4"])
    assert other != first  # another cell, another folder


@pytest.mark.parametrize("world", ["1", None])
def test_without_torchrun_the_folder_is_a_timestamp(monkeypatch, world):
    if world is None:
        monkeypatch.delenv("WORLD_SIZE", raising=False)
    else:
        monkeypatch.setenv("WORLD_SIZE", world)
    folder, name = _run_dir(CELL)
    assert name not in folder
    assert time.strptime(folder.removeprefix("outputs/default/"), "%Y-%m-%d_%H-%M-%S")
