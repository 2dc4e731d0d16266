"""One tracker per grid cell: W&B (offline unless a key is present) or nothing (``logger=none``).

The mode is resolved as: ``logger.mode`` if set to ``online``/``offline``/``disabled``; else the
``WANDB_MODE`` environment variable; else ``offline``. So runs go online only when asked
(``logger.mode=online`` with ``WANDB_API_KEY`` set). Offline runs write real run files under the
cell's output directory; upload them later with ``wandb sync <cell dir>/wandb/offline-run-*``.
Each cell's run is finished in the pipeline's ``finally`` (exit code 1 on failure), so the runs of
one sweep never merge.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Protocol

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)
SECRET_MARKERS = ("key", "token", "secret", "password", "apikey")
TABLE_ROWS = 5000  # default cap on the per-example predictions table (logger.table_rows)
TABLE_COLUMNS = ("kind", "variant", "task", "cluster", "template", "example", "correct", "picked", "gold", "text")


class Tracker(Protocol):
    def log(self, metrics: dict[str, float], step: int | None = None) -> None: ...
    def summary(self, metrics: dict[str, Any]) -> None: ...
    def log_results(self, results: dict[str, Any], path: str | Path) -> None: ...
    def finish(self, exit_code: int = 0) -> None: ...


class NullTracker:
    """Records nothing; used with ``logger=none``."""

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        pass

    def summary(self, metrics: dict[str, Any]) -> None:
        pass

    def log_results(self, results: dict[str, Any], path: str | Path) -> None:
        pass

    def finish(self, exit_code: int = 0) -> None:
        pass


def resolve_mode(requested: str | None) -> str:
    if requested in ("online", "offline", "disabled"):
        return requested
    env = os.environ.get("WANDB_MODE")
    if env in ("online", "offline", "disabled", "dryrun"):
        return "offline" if env == "dryrun" else env
    return "offline"


def is_secret(key: str) -> bool:
    """If the last word of ``key`` names a credential: ``api_key``, ``hf_token``, ``apikey``; not ``max_tokens``."""
    words = key.lower().replace("-", "_").split("_")
    return words[-1] in SECRET_MARKERS


def scrub(value: Any) -> Any:
    """Drop config entries whose key looks like a credential."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if is_secret(str(k)) else scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def prediction_rows(results: dict[str, Any], limit: int) -> list[list[Any]]:
    """Per-example rows ``[kind, variant, task, cluster, template, example, correct, picked, gold, text]``.

    ``correct`` is the example's score under the task's metric (0/1, or e.g. its ROUGE-L); ``picked``
    the chosen option or generated text, ``gold`` the gold option or first reference, ``text`` the
    generated text ("" for classification). At most ``limit`` rows, taken round-robin over
    (variant, task, template) so a capped table still covers them all.
    """
    streams = []
    for kind in ("zeroshot", "indist"):
        for variant, block in results.get(kind, {}).items():
            for t in block.get("templates", []):
                preds = t.get("predictions") or []
                head = [kind, variant, t["task"], t["cluster"], t["template_id"]]
                streams.append([[*head, i, float(c), *_shown(preds[i] if i < len(preds) else {})]
                                for i, c in enumerate(t.get("correct", []))])
    rows: list[list[Any]] = []
    depth = 0
    while len(rows) < limit and any(depth < len(s) for s in streams):
        rows.extend(s[depth] for s in streams if depth < len(s))
        depth += 1
    return rows[:limit]


def _shown(pred: dict[str, Any]) -> list[str]:
    """The picked, gold and generated text of one kept prediction (empty strings when absent)."""
    return [str(pred.get("picked", "")), str(pred.get("gold", "")), str(pred.get("text", ""))]


class WandbTracker:
    """A thin wrapper over one ``wandb`` run."""

    def __init__(self, run, table_rows: int = TABLE_ROWS) -> None:
        self.run = run
        self.table_rows = table_rows

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.run.log(metrics, step=step)

    def summary(self, metrics: dict[str, Any]) -> None:
        for key, value in metrics.items():
            self.run.summary[key] = value

    def log_results(self, results: dict[str, Any], path: str | Path) -> None:
        """Log per-example predictions as a capped ``wandb.Table`` and the results file as an artifact."""
        import wandb

        rows = prediction_rows(results, self.table_rows)
        self.run.log({"predictions": wandb.Table(columns=list(TABLE_COLUMNS), data=rows)})
        self.run.summary["predictions/rows"] = len(rows)
        key = results.get("cell", {}).get("key") or self.run.id
        artifact = wandb.Artifact(f"results-{key}", type="results", metadata=results.get("cell", {}))
        artifact.add_file(str(path), name=Path(path).name)
        self.run.log_artifact(artifact)

    def finish(self, exit_code: int = 0) -> None:
        self.run.finish(exit_code=exit_code)


def start_tracker(cfg: DictConfig, *, name: str, group: str, job_type: str, tags: list[str],
                  output_dir: str, choices: dict[str, str] | None = None) -> Tracker:
    """Start the cell's tracker according to ``cfg.logger``."""
    if cfg.logger.backend == "none":
        return NullTracker()
    mode = resolve_mode(cfg.logger.mode)
    if mode == "disabled":
        return NullTracker()
    import wandb

    os.environ.setdefault("WANDB_SILENT", "true")
    if mode == "offline":
        os.environ["WANDB_MODE"] = "offline"
    config = scrub(OmegaConf.to_container(cfg, resolve=True))
    config["hydra_choices"] = choices or {}
    try:
        run = wandb.init(project=cfg.logger.project, entity=cfg.logger.entity, name=name, group=group,
                         job_type=job_type, tags=tags, config=config, dir=output_dir, mode=mode,
                         reinit="finish_previous")
    except Exception as err:
        if mode != "online":
            raise
        log.warning("W&B online init failed (%s); falling back to offline run files", err)
        os.environ["WANDB_MODE"] = "offline"  # no further network attempts in this process
        run = wandb.init(project=cfg.logger.project, name=name, group=group, job_type=job_type, tags=tags,
                         config=config, dir=output_dir, mode="offline", reinit="finish_previous")
    return WandbTracker(run, table_rows=int(cfg.logger.table_rows))
