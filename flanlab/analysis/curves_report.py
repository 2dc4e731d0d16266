"""The transfer-curves part of a grid's report (``flanlab.analysis.curves``): its tables as files,
``transfer_curves.md`` and the figure ``figures/transfer_curves.{png,pdf}``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from flanlab.analysis.curves import FIGURE
from flanlab.analysis.stats import MEAN_ROW
from flanlab.analysis.study_output import ci_text, write_study

TABLES = ("points", "crossings", "lead", "lead_summary")
PANELS = (("score", "Held-out score"), ("type_acc", "Format (type accuracy)"),
          ("acc_given_type", "Content (accuracy given type)"))
DEFINITIONS = (
    "Each point: the mean over seeds of the held-out estimand (templates, then tasks, then clusters) on the same "
    "rows at every step, for every arm and seed. Chance: uniform over the options (score), over the options' answer "
    "types (format), over the options of the gold's type (content). Above chance from: the step from which the seed "
    "mean stays above chance at every later point (step 0 is the untrained model), with a 95% interval: "
    "percentiles, over 1000 resampled curves (seeds with replacement, then rows within each drawn seed, per task; "
    "the same resample at every step), of each resampled curve's such step ('never' where more than 2.5% do not "
    "end above chance). Sure from: the step from which the 95% CI lies wholly above chance at every later point. "
    "† the CI resamples rows only (fewer than 3 seeds).")


def _step(value: object) -> str:
    return "never" if value is None or pd.isna(value) else str(int(value))


def _first(row: pd.Series) -> str:
    """``first [low, high]`` of a crossing row (``high`` is 'never' when too many resamples never cross)."""
    if row["first_step"] is None or pd.isna(row["first_step"]):
        return "never"
    high = "never" if row["never_share"] > 0.025 else _step(row["first_step_ci_high"])
    return f"{_step(row['first_step'])} [{_step(row['first_step_ci_low'])}, {high}]"


def crossings_text(crossings: pd.DataFrame) -> pd.DataFrame:
    """One row of text per (arm, scoring variant, level): for format, content and score, the step from which it
    stays above chance [95% interval] and the step from which its CI stays above chance; then the score at the last
    step [CI]."""
    if crossings.empty:
        return pd.DataFrame()
    rows = []
    for (heldout, arm, variant, level), part in crossings.groupby(["heldout", "arm", "eval_variant", "level"],
                                                                  sort=False):
        by = part.set_index("metric")
        row = {"held out": heldout, "trained with": arm, "scored with": variant, "level": level,
               "seeds": int(part["seeds"].max())}
        for metric, name in (("type_acc", "format"), ("acc_given_type", "content"), ("score", "score")):
            r = by.loc[metric] if metric in by.index else None
            row[f"{name}: above chance from"] = "" if r is None else _first(r)
            row[f"{name}: sure from"] = "" if r is None else _step(r["sure_step"])
        if "score" in by.index:
            r = by.loc["score"]
            row[f"score at step {int(r['last_step'])}"] = ci_text(r["final"], r["final_ci_low"], r["final_ci_high"],
                                                                  examples_only=r["ci_kind"] == "examples")
        rows.append(row)
    return pd.DataFrame(rows)


def lead_text(summary: pd.DataFrame, lead: pd.DataFrame) -> pd.DataFrame:
    """instruction − no_template per level, as text: from which step the lead stays above zero, and its size at the
    first point after step 0 and at the end [95% CI]."""
    if summary.empty:
        return pd.DataFrame()
    rows = []
    for _, r in summary.iterrows():
        part = lead[(lead["heldout"] == r["heldout"]) & (lead["level"] == r["level"]) & (lead["step"] > 0)]
        early = part.iloc[0] if not part.empty else None
        rows.append({"held out": r["heldout"], "comparison": r["comparison"], "level": r["level"],
                     "above 0 from": _first(r), "sure from": _step(r["sure_step"]),
                     "first point after 0": "" if early is None else
                     f"step {int(early['step'])}: " + ci_text(early["diff"], early["ci_low"], early["ci_high"], True),
                     f"at step {int(r['last_step'])}": ci_text(r["final"], r["final_ci_low"], r["final_ci_high"],
                                                               True)})
    return pd.DataFrame(rows)


def _markdown(frame: pd.DataFrame) -> str:
    return "" if frame.empty else frame.to_markdown(index=False)


def curves_markdown(tables: dict[str, pd.DataFrame]) -> str:
    """The study's report section."""
    cross = tables["crossings"]
    examples = not cross.empty and (cross["ci_kind"] == "examples").any()
    parts = ["## Transfer during training: when held-out format and content rise above chance",
             DEFINITIONS if examples else DEFINITIONS.replace(" † the CI resamples rows only (fewer than 3 seeds).",
                                                                   ""),
             _markdown(crossings_text(cross)),
             "## Instruction's lead over no template, step by step (paired on seeds and rows)",
             _markdown(lead_text(tables["lead_summary"], tables["lead"]))]
    return "\n\n".join(p for p in parts if p) + "\n"


def plot_curves(points: pd.DataFrame) -> plt.Figure | None:
    """Held-out score, format and content against the step (the mean over seeds, the band from the lowest to the
    highest seed), one line per (arm → scoring variant), with chance (dotted) and the majority answer (dash-dot);
    in-distribution accuracy beside them. One row for the held-out mean, then one per cluster."""
    from flanlab.analysis.figures import FULL_WIDTH, OKABE_ITO

    if points.empty:
        return None
    clusters = sorted(lv for lv in points["level"].unique() if lv not in (MEAN_ROW, "indist"))
    levels = [MEAN_ROW, *clusters] if len(clusters) > 1 else [MEAN_ROW]  # one cluster: its row is the mean
    fig, axes = plt.subplots(len(levels), 4, figsize=(FULL_WIDTH, 1.9 * len(levels)), squeeze=False, sharex=True)
    lines = list(dict.fromkeys(zip(points["heldout"], points["arm"], points["eval_variant"], strict=True)))
    indist_drawn: set[tuple[str, str]] = set()  # one in-distribution line per arm (every variant carries it)
    for i, (heldout, arm, variant) in enumerate(lines):
        mine = points[(points["heldout"] == heldout) & (points["arm"] == arm) & (points["eval_variant"] == variant)]
        name = f"{arm} → {variant}" + (f" ({heldout})" if points["heldout"].nunique() > 1 else "")
        style = {"color": OKABE_ITO[i % len(OKABE_ITO)], "lw": 1.0}
        for row, level in enumerate(levels):
            for col, (metric, _) in enumerate(PANELS):
                _draw(axes[row][col], mine[(mine["metric"] == metric) & (mine["level"] == level)], name, style)
        if (heldout, arm) not in indist_drawn and (mine["metric"] == "indist").any():
            indist_drawn.add((heldout, arm))
            _draw(axes[0][3], mine[mine["metric"] == "indist"], name, style)
    for row, level in enumerate(levels):
        for col, (metric, title) in enumerate(PANELS):
            _chance(axes[row][col], points[(points["metric"] == metric) & (points["level"] == level)], metric)
            axes[row][col].set_ylim(0, 1.04)  # a line at 1 stays visible
            if row == 0:
                axes[row][col].set_title(title)
        name = "held-out mean" if len(clusters) > 1 else f"held out: {', '.join(clusters) or 'mean'}"
        axes[row][0].set_ylabel(name if level == MEAN_ROW else level.replace("_", " "))
        if row:
            axes[row][3].axis("off")
    axes[0][3].set_title("In distribution (accuracy)")
    axes[0][3].set_ylim(0, 1.04)
    _notes(axes, points, levels)
    for ax in axes[-1]:
        ax.set_xlabel("step")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.tight_layout()
    fig.legend(handles, names, loc="upper center", ncol=min(len(names), 4), frameon=False, bbox_to_anchor=(0.5, 0.0),
               title="Trained with → scored with (band: lowest to highest seed)")
    return fig


def _notes(axes, points: pd.DataFrame, levels: list[str]) -> None:
    """Say why a panel is flat or empty: format when every option has the gold's type (it is 1 by construction),
    in-distribution accuracy when it was not measured."""
    for row, level in enumerate(levels):
        fmt = points[(points["metric"] == "type_acc") & (points["level"] == level)]
        if not fmt.empty and (fmt["chance"] >= 1 - 1e-9).all():
            axes[row][1].text(0.5, 0.5, "every option has the\ngold's answer type:\nformat is 1 by\nconstruction",
                              ha="center", va="center", fontsize=6, color="grey", transform=axes[row][1].transAxes)
    if not (points["metric"] == "indist").any():
        axes[0][3].text(0.5, 0.5, "not measured\n(scoring.\ncurve_indist_rows=0)", ha="center",
                        va="center", fontsize=6, color="grey", transform=axes[0][3].transAxes)


def _draw(ax: plt.Axes, part: pd.DataFrame, name: str, style: dict) -> None:
    if part.empty:
        return
    part = part.sort_values("step")
    ax.plot(part["step"], part["value"], label=name, **style)
    ax.fill_between(part["step"], part["seed_min"], part["seed_max"], color=style["color"], alpha=0.15, lw=0)


def _chance(ax: plt.Axes, part: pd.DataFrame, metric: str) -> None:
    """Chance as a dotted line and, on score panels, the majority answer as a dash-dot line."""
    for column, ls, text in (("chance", ":", "chance"), ("majority", "-.", "majority")):
        values = part[column].dropna() if column in part else pd.Series(dtype=float)
        if not values.empty and (metric == "score" or column == "chance"):
            ax.axhline(float(values.iloc[0]), color="grey", ls=ls, lw=0.8, label=text)


def write_curves(tables: dict[str, pd.DataFrame], out: Path, *, figures: bool = True) -> list[Path]:
    """Save the tables (``curves_<name>``: CSV, Markdown, Parquet), ``transfer_curves.md`` and the figure."""
    plots = {FIGURE: lambda: plot_curves(tables["points"])} if figures else None
    return write_study(tables, TABLES, out, "curves", FIGURE, curves_markdown(tables), plots)
