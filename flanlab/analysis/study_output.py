"""What a study's report writes: its tables (CSV, Markdown, Parquet), its Markdown summary and its figures; and
the pieces the studies' summaries share (numbers with CIs, the baselines line and lines, the differences table)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from flanlab.analysis.tables import save_study_tables

EXAMPLES_ONLY_NOTE = " † the CI resamples examples only (fewer than 3 seeds)."
PAIRED_HEADING = "## Paired differences (same seeds, same items; Holm over this table)"


def number_text(value: object) -> str:
    """A number to three decimals; empty when missing."""
    return "" if value is None or pd.isna(value) else f"{float(value):.3f}"


def ci_text(value: object, low: object, high: object, sign: bool = False, examples_only: bool = False) -> str:
    """``0.412 [0.380, 0.441]`` (``†``: the CI resamples examples only); empty when the value is missing."""
    if value is None or pd.isna(value):
        return ""
    text = format(float(value), "+.3f" if sign else ".3f")
    if low is not None and not pd.isna(low):
        text += f" [{float(low):.3f}, {float(high):.3f}]" + ("†" if examples_only else "")
    return text


def examples_only(*tables: pd.DataFrame) -> bool:
    """Whether any row of ``tables`` has a CI over examples only (``ci_kind``), so its ``†`` needs the note."""
    return any(not t.empty and "ci_kind" in t and (t["ci_kind"] == "examples").any() for t in tables)


def baselines_line(base: pd.DataFrame) -> str:
    """``Baselines (held-out tasks): chance 0.200, ...``; empty without baselines."""
    if base.empty:
        return ""
    return "Baselines (held-out tasks): " + ", ".join(f"{b} {s:.3f}" for b, s in
                                                      zip(base["baseline"], base["score"], strict=True))


def draw_baselines(ax: plt.Axes, base: pd.DataFrame) -> None:
    """Each baseline as a grey horizontal line (dotted, dash-dot, dashed), labelled by its short name."""
    for (_, b), style in zip(base.iterrows(), (":", "-.", "--"), strict=False):
        ax.axhline(b["score"], color="grey", linestyle=style, linewidth=1, label=b["baseline"].split(" (")[0])


def differences_markdown(diffs: pd.DataFrame) -> str:
    """Paired differences (``stats.paired_differences``) as Markdown: difference [95% CI], p, Holm's p, seeds."""
    if diffs.empty:
        return ""
    return pd.DataFrame({
        "comparison": diffs["comparison"],
        "difference [95% CI]": [ci_text(v, lo, hi, sign=True, examples_only=k == "examples") for v, lo, hi, k in
                                zip(diffs["diff"], diffs["ci_low"], diffs["ci_high"], diffs["ci_kind"], strict=True)],
        "p": diffs["p_value"].map(number_text), "p_holm": diffs["p_holm"].map(number_text), "seeds": diffs["seeds"],
    }).to_markdown(index=False)


def study_markdown(heading: str, intro: str, table: str, tables: dict[str, pd.DataFrame]) -> str:
    """A study's section: its heading, ``intro`` (with the † note when a CI resamples examples only), its ``table``
    in Markdown, the baselines line and the paired differences (``tables``: ``table``, ``baselines``,
    ``differences``)."""
    note = EXAMPLES_ONLY_NOTE if examples_only(tables["table"], tables["differences"]) else ""
    parts = [heading, intro + note, table, baselines_line(tables["baselines"]), PAIRED_HEADING,
             differences_markdown(tables["differences"])]
    return "\n\n".join(p for p in parts if p) + "\n"


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
