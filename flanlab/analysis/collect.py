"""Read every cell's ``results.json`` under a folder into tidy DataFrames."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from flanlab.estimand.rollup import TaskKey, clusters_and_mean, task_scores
from flanlab.results import RESULTS_FILE, read_cell_results


def load_cells(root: str | Path) -> list[dict]:
    """All complete cells under ``root`` (any depth), with their folder recorded."""
    cells = []
    for path in sorted(Path(root).rglob(RESULTS_FILE)):
        data = read_cell_results(path.parent)
        if data is None:
            continue  # unreadable (cut off mid-copy): not a complete cell
        cells.append({**data, "dir": str(path.parent)})
    return cells


def variant_clusters(block: dict) -> dict[str, float]:
    """A stored variant block's cluster scores (``summarize``); older results.json files without them are rolled
    up from their task scores by the same estimand."""
    if "clusters" in block:
        return block["clusters"]
    return clusters_and_mean(task_scores(block["tasks"]))[0]


def loss_frame(cells: list[dict]) -> pd.DataFrame:
    """One row per logged training step of each trained cell: ``step``, ``loss`` and the cell's labels (``arm``
    tells the oracle and the few-shot arms from the instruction arm they share a ``train_variant`` with)."""
    rows = []
    for cell in cells:
        info = cell["cell"]
        for step, loss in cell.get("train", {}).get("losses", []):
            rows.append({"arm": arm_of(cell), "train_variant": info["train_variant"],
                         "heldout": "+".join(info["heldout"]), "seed": info["seed"], "step": int(step),
                         "loss": float(loss)})
    return pd.DataFrame(rows)


def indist_frame(cells: list[dict]) -> pd.DataFrame:
    """One row per (cell, trained task): in-distribution accuracy with the training variant."""
    rows = []
    for cell in cells:
        info = cell["cell"]
        for variant, block in cell.get("indist", {}).items():
            for task, summary in block["tasks"].items():
                rows.append({
                    "train_variant": variant, "heldout": "+".join(info["heldout"]), "seed": info["seed"],
                    "task": task, "cluster": summary["cluster"], "score": summary["mean"], "chance": summary["chance"],
                })
    return pd.DataFrame(rows)


def wandb_loss_frame(root: str | Path) -> pd.DataFrame:
    """Training losses read back from the offline W&B runs under ``root`` (one per cell), like ``loss_frame``."""
    from flanlab.tracking.offline import offline_runs, run_history, run_summary

    rows = []
    for run in offline_runs(root):
        config = run_summary(run)["config"]
        heldout = "+".join(config["heldout"]["clusters"])
        variant = config["template"]["train_variant"] or "untuned"
        for item in run_history(run):
            if "train/loss" in item:
                rows.append({"train_variant": variant, "heldout": heldout, "seed": config["seed"],
                             "step": int(item["_step"]), "loss": float(item["train/loss"])})
    return pd.DataFrame(rows)


# --- Per-template arrays for the hierarchical bootstrap -----------------------------------------------------------



def arm_of(cell: dict) -> str:
    """The training arm of a cell: ``cell.arm`` when results.json carries it, else the training variant."""
    info = cell["cell"]
    return str(info.get("arm") or info["train_variant"])


def config_built(cell: dict) -> bool:
    """Whether the cell's model was built from a config (random weights), not loaded pretrained."""
    source = (cell.get("model") or {}).get("source")
    if source is not None:
        return source == "config"
    return str(cell["cell"].get("model", "")).startswith("tiny")


@dataclass
class GroupData:
    """One arm scored one way, every seed: per task, ``[n_seeds, n_templates, n_examples]`` arrays (NaN where a
    seed, template or example is missing); ``types`` only for tasks whose results carry ``type_correct``,
    ``override`` only for those whose results carry ``override`` (NaN where an example does not tell)."""

    seeds: list[int]
    correct: dict[TaskKey, np.ndarray]
    types: dict[TaskKey, np.ndarray]
    meta: dict[TaskKey, dict]
    info: dict
    override: dict[TaskKey, np.ndarray] = field(default_factory=dict)


def _stack(seeds: list[int], entries: dict[int, list[dict]], field: str) -> np.ndarray | None:
    """Stack one field of a task's template entries into ``[S, K, N]`` (None entries and gaps are NaN)."""
    ids = list(dict.fromkeys(t["template_id"] for s in seeds for t in entries.get(s, [])))
    n = max(len(t.get("correct") or []) for s in seeds for t in entries.get(s, []))
    out = np.full((len(seeds), len(ids), n), np.nan)
    found = False
    for i, s in enumerate(seeds):
        for t in entries.get(s, []):
            values = t.get(field)
            if values is None:
                continue
            found = True
            row = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
            out[i, ids.index(t["template_id"]), : row.size] = row
    return out if found else None


def _task_meta(entries: dict[int, list[dict]]) -> dict:
    """Chance, majority baseline, chance given type, and the mean pick rate of each option over templates/seeds."""
    templates = [t for ts in entries.values() for t in ts]
    extras = [t.get("other_metrics") or t.get("extra") or {} for t in templates]  # "extra": older results

    def mean_of(key: str) -> float:
        values = [float(e[key]) for e in extras if e.get(key) is not None]
        return float(np.mean(values)) if values else float("nan")

    picks: dict[str, float] = {}
    rated = [r for t, e in zip(templates, extras, strict=True)
             if isinstance(r := t.get("pick_rate") or e.get("pick_rate"), dict) and r]
    for rates in rated:
        for option, rate in rates.items():
            picks[option] = picks.get(option, 0.0) + float(rate) / len(rated)
    chance = templates[0].get("chance")
    return {"chance": float("nan") if chance is None else float(chance), "majority": mean_of("majority"),
            "chance_given_type": mean_of("chance_given_type"), "type_acc_reported": mean_of("type_acc"),
            "pick_rate": picks}


def group_cells(cells: list[dict], key: Callable[[dict, str], tuple]) -> dict[tuple, GroupData]:
    """Group every (cell, scoring variant) by ``key(cell, variant)`` and stack their template results by seed.

    A (seed, task) seen twice in a group keeps the first cell's results (cells are read in folder order)."""
    raw: dict[tuple, dict[TaskKey, dict[int, list[dict]]]] = {}
    infos: dict[tuple, dict] = {}
    for cell in cells:
        seed = int(cell["cell"]["seed"])
        for variant, block in cell.get("zeroshot", {}).items():
            k = key(cell, variant)
            infos.setdefault(k, {"train_variant": cell["cell"]["train_variant"], "arm": arm_of(cell),
                                 "eval_variant": variant, "config_built": config_built(cell),
                                 "model": cell["cell"].get("model")})
            tasks = raw.setdefault(k, {})
            fresh: dict[TaskKey, list[dict]] = {}
            for t in block.get("templates", []):
                fresh.setdefault((t["cluster"], t["task"]), []).append(t)
            for tk, entries in fresh.items():
                tasks.setdefault(tk, {}).setdefault(seed, entries)
    out = {}
    for k, tasks in raw.items():
        seeds = sorted({s for by_seed in tasks.values() for s in by_seed})
        correct = {tk: _stack(seeds, e, "correct") for tk, e in tasks.items()}
        types = {tk: arr for tk, e in tasks.items() if (arr := _stack(seeds, e, "type_correct")) is not None}
        override = {tk: arr for tk, e in tasks.items() if (arr := _stack(seeds, e, "override")) is not None}
        out[k] = GroupData(seeds, {tk: v for tk, v in correct.items() if v is not None}, types,
                           {tk: _task_meta(e) for tk, e in tasks.items()}, infos[k], override)
    return out
