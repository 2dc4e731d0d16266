"""Report tables beside the main one (which ``flanlab.analysis.sweep_report`` builds from ``flanlab.analysis.stats``):
in-distribution accuracy, the per-template spread, and saving tables as CSV, Markdown and Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flanlab.analysis.collect import arm_of, indist_frame
from flanlab.io import atomic_write_text

VARIANT_ORDER = ["instruction", "dataset_name", "no_template", "opaque_tag", "shuffled_instruction", "oracle",
                 "untuned"]


def indist_table(cells: list[dict]) -> pd.DataFrame:
    """In-distribution accuracy on the trained tasks, per training variant and held-out cluster."""
    frame = indist_frame(cells)
    if frame.empty:
        return frame
    table = frame.pivot_table(index="train_variant", columns="heldout", values="score", aggfunc="mean")
    table["mean"] = table.mean(axis=1)
    table.columns.name = None
    return table


def template_spread(cells: list[dict]) -> pd.DataFrame:
    """How much the score of each held-out task moves with the template: per (arm, scoring variant, task), each
    template's score averaged over seeds, then their number, mean, min, max, spread (max - min) and std."""
    rows = []
    for cell in cells:
        for variant, block in cell.get("zeroshot", {}).items():
            rows += [{"arm": arm_of(cell), "eval_variant": variant, "cluster": t["cluster"], "task": t["task"],
                      "template_id": t["template_id"], "value": t["value"]} for t in block.get("templates", [])]
    if not rows:
        return pd.DataFrame()
    keys = ["arm", "eval_variant", "cluster", "task"]
    per_template = pd.DataFrame(rows).groupby([*keys, "template_id"], sort=False)["value"].mean()
    table = per_template.groupby(level=keys, sort=False).agg(["count", "mean", "min", "max", "std"])
    table.insert(4, "spread", table["max"] - table["min"])
    return table.rename(columns={"count": "templates"}).reset_index()


def save_table(flat: pd.DataFrame, root: str | Path, name: str) -> list[Path]:
    """Save a flat table as ``<name>.csv``, ``.md`` and ``.parquet`` under ``root``, each written atomically."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(root / f"{name}.csv", flat.to_csv(index=False))
    atomic_write_text(root / f"{name}.md", flat.to_markdown(index=False, floatfmt=".3f") + "\n")
    flat.to_parquet(root / f".{name}.parquet.tmp", index=False)
    (root / f".{name}.parquet.tmp").replace(root / f"{name}.parquet")
    return [root / f"{name}.{ext}" for ext in ("csv", "md", "parquet")]


def save_study_tables(tables: dict[str, pd.DataFrame], names: tuple[str, ...] | list[str], root: str | Path,
                      prefix: str) -> list[Path]:
    """Save each non-empty table of ``names`` as ``<prefix>_<name>`` (``save_table``), a study's report tables."""
    paths: list[Path] = []
    for name in names:
        if not tables[name].empty:
            paths += save_table(tables[name], root, f"{prefix}_{name}")
    return paths
