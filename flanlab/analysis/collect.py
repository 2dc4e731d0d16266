"""Read every cell's ``results.json`` under a folder into tidy DataFrames."""

from __future__ import annotations

import json
from pathlib import Path

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
                    "seed": info["seed"], "model": info["model"], "score": sum(values) / len(values), "dir": cell["dir"],
                })
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
