"""The cells a sweep config asks for, expanded the way Hydra's basic sweeper expands them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Override, RangeSweep
from omegaconf import DictConfig, OmegaConf

MAX_CONFIGS = 32  # configs composed for one sweep: each value of each swept key at least once, up to this many


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

    parsed = OverridesParser.create().parse_overrides(list(args))
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        combined = with_sweeper_params(parsed, config_name, multirun=True)
    return [list(cell) for batch in BasicSweeper.split_arguments(combined, None) for cell in batch]


def config_points(overrides: Sequence[Override]) -> list[list[str]] | None:
    """The override lists of the configs to check: every sweep at its first value, then one more config per
    other value of each sweep (at most ``MAX_CONFIGS``). None when a sweep cannot be listed (glob, interval)."""
    options: list[list[str]] = []
    for o in overrides:
        if is_hydra(o) or o.input_line is None:
            continue  # Hydra's own settings change no job config
        if not o.is_sweep_override():
            options.append([o.input_line])
        elif isinstance(o.value(), ChoiceSweep | RangeSweep):
            options.append([f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()])
        else:
            return None
    first = [values[0] for values in options]
    points = [first] + [[*first[:i], v, *first[i + 1:]] for i, values in enumerate(options) for v in values[1:]]
    return points[:MAX_CONFIGS]


def is_hydra(override: Override) -> bool:
    """Whether an override sets one of Hydra's own keys (``hydra.*``), which change no job config."""
    return override.key_or_group.split("/")[0].split(".")[0] == "hydra"


def with_sweeper_params(overrides: list[Override], config_name: str, multirun: bool) -> list[Override]:
    """``overrides`` after the swept keys of ``hydra.sweeper.params`` (an experiment's grid) when the run is a
    sweep (``-m``, or ``hydra.mode: MULTIRUN`` in the config), as Hydra's basic sweeper combines them. Where
    only Hydra's own settings fail to compose (a key the chosen launcher lacks, say), the grid cannot be known
    and Hydra's error is raised; where the job config fails, ``overrides`` come back for the checks to judge."""
    from hydra import compose

    first = config_points([o for o in overrides if not o.is_sweep_override()]) or [[]]
    own = [o.input_line for o in overrides if is_hydra(o) and not o.is_sweep_override() and o.input_line]
    try:
        hydra_cfg = compose(config_name=config_name, overrides=[*first[0], *own], return_hydra_config=True).hydra
    except Exception:
        try:
            compose(config_name=config_name, overrides=first[0])
        except Exception:
            return overrides
        raise
    if not (multirun or str(hydra_cfg.get("mode")).endswith("MULTIRUN")):
        return overrides
    given = {o.key_or_group for o in overrides}
    params = [f"{k}={v}" for k, v in (hydra_cfg.sweeper.get("params") or {}).items() if k not in given]
    return [*OverridesParser.create().parse_overrides(params), *overrides] if params else overrides
