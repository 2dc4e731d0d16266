"""Read every cell's ``results.json`` under a folder into tidy DataFrames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS_FILE = "results.json"


def load_cells(root: str | Path) -> list[dict]:
    """All complete cells under ``root`` (any depth), with their folder recorded."""
    cells = []
    for path in sorted(Path(root).rglob(RESULTS_FILE)):
        data = json.loads(path.read_text())
        data["dir"] = str(path.parent)
        cells.append(data)
    return cells


def scores_frame(cells: list[dict]) -> pd.DataFrame:
    """One row per (cell, scoring variant, held-out cluster): the template-averaged cluster score."""
    rows = []
    for cell in cells:
        info = cell["cell"]
        for variant, block in cell.get("zeroshot", {}).items():
            by_cluster: dict[str, list[float]] = {}
            for summary in block["tasks"].values():
                by_cluster.setdefault(summary["cluster"], []).append(summary["mean"])
            for cluster, values in by_cluster.items():
                rows.append({
                    "train_variant": info["train_variant"], "eval_variant": variant, "cluster": cluster,
                    "seed": info["seed"], "model": info["model"], "score": sum(values) / len(values),
                    "dir": cell["dir"], "heldout": "+".join(info["heldout"]),
                    "n_train_clusters": len(cell.get("split", {}).get("train", [])),
                })
    return pd.DataFrame(rows)


def example_frame(cells: list[dict]) -> pd.DataFrame:
    """One row per (cell, scoring variant, held-out task, example): the example's score averaged over templates.

    The per-example ``correct`` lists of a task's templates cover the same rows in the same order, so
    their column mean is the example's template-averaged score; bootstrap CIs and paired tests use it.
    """
    frames = []
    for cell in cells:
        info = cell["cell"]
        base = {"train_variant": info["train_variant"], "heldout": "+".join(info["heldout"]), "seed": info["seed"],
                "n_train_clusters": len(cell.get("split", {}).get("train", [])), "model": info["model"]}
        for variant, block in cell.get("zeroshot", {}).items():
            by_task: dict[str, list[list[int]]] = {}
            clusters = {}
            for t in block["templates"]:
                by_task.setdefault(t["task"], []).append(t["correct"])
                clusters[t["task"]] = t["cluster"]
            for task, lists in by_task.items():
                if len({len(c) for c in lists}) != 1:
                    raise ValueError(f"{cell['dir']}: templates of task {task!r} scored different numbers of rows")
                scores = np.asarray(lists, dtype=float).mean(axis=0)
                frames.append(pd.DataFrame({**base, "eval_variant": variant, "cluster": clusters[task], "task": task,
                                            "example": np.arange(len(scores)), "score": scores}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def loss_frame(cells: list[dict]) -> pd.DataFrame:
    """One row per logged training step of each trained cell: ``step``, ``loss`` and the cell's labels."""
    rows = []
    for cell in cells:
        info = cell["cell"]
        for step, loss in cell.get("train", {}).get("losses", []):
            rows.append({"train_variant": info["train_variant"], "heldout": "+".join(info["heldout"]),
                         "seed": info["seed"], "step": int(step), "loss": float(loss)})
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
