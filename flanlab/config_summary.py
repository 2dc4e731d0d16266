"""A short summary of the resolved config, printed when a single run starts (not in sweeps: cells share a terminal).

One line per group that decides what the cell computes, in the order a reader checks them; the full
resolved config is in ``<run dir>/.hydra/config.yaml`` and in ``results.json``.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf


def _get(cfg: DictConfig, key: str) -> object:
    return OmegaConf.select(cfg, key, default=None, throw_on_missing=False)


def _line(cfg: DictConfig, keys: dict[str, str]) -> str:
    return ", ".join(f"{label} {_get(cfg, key)}" for label, key in keys.items() if _get(cfg, key) is not None)


def summary_lines(cfg: DictConfig, choices: dict[str, str] | None = None) -> list[str]:
    """``group: settings`` lines for model, tasks, held-out, template, train, scoring and data."""
    choices = choices or {}
    target = str(_get(cfg, "tasks._target_") or "").rsplit(".", 1)[-1]
    rows = {
        "model": f"{choices.get('model', _get(cfg, 'model.name'))} ({_get(cfg, 'model.arch')}, "
                 f"{_get(cfg, 'model.source')})",
        "tasks": f"{choices.get('tasks', '?')} ({target})",
        "held out": f"{list(_get(cfg, 'heldout.clusters') or [])}"
                    + (f", training only {list(_get(cfg, 'heldout.train_only'))}" if _get(cfg, "heldout.train_only")
                       else ""),
        "template": f"{_get(cfg, 'template.name')}: train {_get(cfg, 'template.train_variant') or 'none (untuned)'}, "
                    f"score {list(_get(cfg, 'template.eval_variants') or [])}",
        "train": _line(cfg, {"steps": "train.steps", "batch": "train.batch_size", "lr": "train.lr",
                             "peft": "train.peft", "precision": "train.precision", "device": "train.device"}),
        "scoring": _line(cfg, {"batch": "scoring.batch_size", "precision": "scoring.precision",
                               "bootstrap": "scoring.bootstrap_resamples"}),
        "data": _line(cfg, {"train rows/task": "data.max_train_per_task", "eval rows/task": "data.max_eval_per_task",
                            "seed": "seed"}),
    }
    width = max(len(k) for k in rows)
    return [f"  {k.ljust(width)}  {v}" for k, v in rows.items()]


def print_summary(cfg: DictConfig, choices: dict[str, str] | None = None, output_dir: str = "") -> None:
    """Print the summary block, headed by the run folder."""
    print("\n".join([f"flanlab run -> {output_dir}", *summary_lines(cfg, choices)]), flush=True)
