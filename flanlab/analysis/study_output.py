"""What a study's report writes: its tables (CSV, Markdown, Parquet), its Markdown summary and its figures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from flanlab.analysis.tables import save_study_tables


def write_study(tables: dict[str, pd.DataFrame], names: tuple[str, ...], out: Path, prefix: str, summary: str,
                markdown: str, plots: dict[str, Callable[[], plt.Figure | None]] | None = None) -> list[Path]:
    """Save ``tables[names]`` as ``<prefix>_<name>``, ``markdown`` as ``<summary>.md`` and each figure of ``plots``
    (stem: a function drawing it, or None to skip) as ``figures/<stem>``; returns the paths written."""
    from flanlab.analysis.figures import save_figure
    from flanlab.io import atomic_write_text

    paths = save_study_tables(tables, names, out, prefix)
    atomic_write_text(out / f"{summary}.md", markdown)
    paths.append(out / f"{summary}.md")
    for stem, plot in (plots or {}).items():
        fig = plot()
        if fig is not None:
            paths += save_figure(fig, out / "figures" / stem)
            plt.close(fig)
    return paths
