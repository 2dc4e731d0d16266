"""The cells a sweep config asks for, expanded the way Hydra's basic sweeper expands them."""

from __future__ import annotations

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
