"""The cells a sweep config asks for, expanded the way Hydra's basic sweeper expands them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf


def expected_overrides(config: DictConfig) -> list[tuple[str, ...]]:
    """Every cell's override list: ``hydra.sweeper.params`` then the command line (which wins)."""
    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    args = [f"{k}={v}" for k, v in params.items()] + list(OmegaConf.select(config, "hydra.overrides.task") or [])
    parsed = OverridesParser.create().parse_overrides(args)
    return [tuple(cell) for batch in BasicSweeper.split_arguments(parsed, None) for cell in batch]


def sweep_overrides(sweep_dir: str | Path) -> list[tuple[str, ...]] | None:
    """The expected cells of a finished or running sweep, from its ``multirun.yaml``; None if absent."""
    path = Path(sweep_dir) / "multirun.yaml"
    if not path.exists():
        return None
    return expected_overrides(OmegaConf.load(path))


def cell_overrides(cell_dir: str | Path) -> tuple[str, ...] | None:
    """The overrides a cell folder was launched with (``.hydra/overrides.yaml``)."""
    path = Path(cell_dir) / ".hydra" / "overrides.yaml"
    if not path.exists():
        return None
    return tuple(str(o) for o in OmegaConf.load(path))


def command_line_cells(args: Sequence[str], conf_dir: str | Path, config_name: str = "config") -> list[list[str]]:
    """Each cell a multirun of ``args`` (the overrides after ``python -m flanlab -m``) would launch, as its
    override list: an experiment's ``hydra.sweeper.params`` combined with the command line, the way Hydra's
    basic sweeper combines them (the command line wins)."""
    from hydra import initialize_config_dir

    from flanlab.cli_checks import with_sweeper_params

    parsed = OverridesParser.create().parse_overrides(list(args))
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        combined = with_sweeper_params(parsed, config_name, multirun=True)
    return [list(cell) for batch in BasicSweeper.split_arguments(combined, None) for cell in batch]
