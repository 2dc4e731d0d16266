"""One tracker per grid cell: W&B (offline unless a key is present) or nothing (``logger=none``).

The mode is resolved as: ``logger.mode`` if set to ``online``/``offline``/``disabled``; else the
``WANDB_MODE`` environment variable; else ``online`` when ``WANDB_API_KEY`` is set, ``offline``
otherwise. Offline runs write real run files under the cell's output directory; upload them later
with ``wandb sync <dir>``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Protocol

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)
SECRET_MARKERS = ("key", "token", "secret", "password")


class Tracker(Protocol):
    def log(self, metrics: dict[str, float], step: int | None = None) -> None: ...
    def summary(self, metrics: dict[str, Any]) -> None: ...
    def finish(self, exit_code: int = 0) -> None: ...


class NullTracker:
    """Records nothing; used with ``logger=none``."""

    dir: Path | None = None

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        pass

    def summary(self, metrics: dict[str, Any]) -> None:
        pass

    def finish(self, exit_code: int = 0) -> None:
        pass


def resolve_mode(requested: str | None) -> str:
    if requested in ("online", "offline", "disabled"):
        return requested
    env = os.environ.get("WANDB_MODE")
    if env in ("online", "offline", "disabled", "dryrun"):
        return "offline" if env == "dryrun" else env
    return "online" if os.environ.get("WANDB_API_KEY") else "offline"


def scrub(value: Any) -> Any:
    """Drop config entries whose key looks like a credential."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if any(m in str(k).lower() for m in SECRET_MARKERS) else scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


class WandbTracker:
    """A thin wrapper over one ``wandb`` run."""

    def __init__(self, run) -> None:
        self.run = run
        self.dir = Path(run.dir).parent if run is not None and run.dir else None

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.run.log(metrics, step=step)

    def summary(self, metrics: dict[str, Any]) -> None:
        for key, value in metrics.items():
            self.run.summary[key] = value

    def finish(self, exit_code: int = 0) -> None:
        self.run.finish(exit_code=exit_code)


def start_tracker(cfg: DictConfig, *, name: str, group: str, job_type: str, tags: list[str],
                  output_dir: str, choices: dict[str, str] | None = None) -> Tracker:
    """Start the cell's tracker according to ``cfg.logger``."""
    if cfg.logger.backend == "none":
        return NullTracker()
    mode = resolve_mode(cfg.logger.get("mode"))
    if mode == "disabled":
        return NullTracker()
    import wandb

    os.environ.setdefault("WANDB_SILENT", "true")
    if mode == "offline":
        os.environ["WANDB_MODE"] = "offline"
    config = scrub(OmegaConf.to_container(cfg, resolve=True))
    config["hydra_choices"] = choices or {}
    try:
        run = wandb.init(project=cfg.logger.project, entity=cfg.logger.get("entity"), name=name, group=group,
                         job_type=job_type, tags=tags, config=config, dir=output_dir, mode=mode, reinit="finish_previous")
    except Exception as err:  # noqa: BLE001 - any failure to reach W&B falls back to offline files
        if mode != "online":
            raise
        log.warning("W&B online init failed (%s); falling back to offline run files", err)
        run = wandb.init(project=cfg.logger.project, name=name, group=group, job_type=job_type, tags=tags,
                         config=config, dir=output_dir, mode="offline", reinit="finish_previous")
    return WandbTracker(run)
