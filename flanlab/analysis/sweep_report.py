"""A grid's report: every cell's results gathered into summary tables, a headline JSON and paper figures.

``build_report(root)`` computes; ``write_report(root)`` saves. Cells that trained on a restricted set of
clusters (``heldout.train_only``, the num-clusters study) are summarised by the number of training clusters;
the others by (training arm, scoring variant), compared with instruction-trained/instruction-scored. Every
score is one estimand (``flanlab.analysis.stats``): templates, then tasks, then clusters averaged per seed,
then seeds; CIs from the hierarchical bootstrap; p-values paired on seeds and examples, Holm-corrected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flanlab.analysis.collect import GroupData, arm_of, group_cells, load_cells
from flanlab.analysis.cot import build_cot
from flanlab.analysis.curves import build_curves
from flanlab.analysis.grid_status import grid_status
from flanlab.analysis.mixing import build_mixing
from flanlab.analysis.semantics_report import build_semantics, write_semantics
from flanlab.analysis.stats import MEAN_ROW, add_baseline, apply_holm, compare, needs_seeds_note, summarize
from flanlab.analysis.tables import VARIANT_ORDER, indist_table, save_table
from flanlab.estimand.rollup import MEAN_KEY

REFERENCE = ("instruction", "instruction")  # (arm, scoring variant) every row is compared with
HEADLINE = (("instruction", "instruction"), ("no_template", "instruction"))
SHUFFLED_CONTROL = (("shuffled_instruction", "instruction"), ("no_template", "instruction"))
RANDOM_INIT = "random init"


@dataclass
class Report:
    ablation: pd.DataFrame  # long: (arm, eval_variant, cluster | "mean") -> score, CI, type metrics, Δ, p, p_holm
    wide: pd.DataFrame  # score per (arm, scoring variant) x cluster, plus the mean (same estimand)
    indist: pd.DataFrame
    num_clusters: pd.DataFrame  # long: (n_train_clusters, cluster | "mean") -> score, CI
    status: pd.DataFrame
    tasks: pd.DataFrame = field(default_factory=pd.DataFrame)  # per held-out task
    headline: dict = field(default_factory=dict)  # what report.json carries
    figures: list[Path] = field(default_factory=list)
    html: Path | None = None  # report.html, once a caller has written it (flanlab.analysis.html_report.write_html)
    semantics: dict[str, pd.DataFrame] = field(default_factory=dict)  # flanlab.analysis.semantics_report
    cot: dict[str, pd.DataFrame] = field(default_factory=dict)  # flanlab.analysis.cot (docs/cot.md)
    mixing: dict[str, pd.DataFrame] = field(default_factory=dict)  # flanlab.analysis.mixing (k-shot scoring)
    cells: list[dict] = field(default_factory=list)  # the loaded results.json of every complete cell
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)  # flanlab.analysis.curves (scoring.curve_every)


def is_num_clusters_cell(cell: dict) -> bool:
    return (cell.get("config", {}).get("heldout", {}) or {}).get("train_only") is not None


def arm_label(arm: str, config_built: bool) -> str:
    """How an arm is named in tables and figures: an untuned config-built model is a random init."""
    return RANDOM_INIT if arm == "untuned" and config_built else arm


def _sort(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    rank = {v: i for i, v in enumerate(VARIANT_ORDER)}
    key = frame.apply(lambda r: (rank.get(r["arm"], 99), r["arm"], rank.get(r["eval_variant"], 99),
                                 *(r[c] == MEAN_ROW if c == "cluster" else r[c] for c in keys)), axis=1)
    return frame.loc[key.sort_values().index].reset_index(drop=True)


def _labelled(frame: pd.DataFrame, groups: dict[tuple, GroupData]) -> pd.DataFrame:
    if frame.empty:
        return frame
    built = {k[0]: g.info["config_built"] for k, g in groups.items()}
    frame = frame.copy()
    frame.insert(0, "label", [arm_label(a, built.get(a, False)) for a in frame["arm"]])
    if "baseline" in frame:
        frame["baseline_label"] = arm_label("untuned", built.get("untuned", False))
    return frame


def wide_table(ablation: pd.DataFrame) -> pd.DataFrame:
    """Score per (arm, scoring variant) row and cluster column, then ``mean``; the first index level is named
    ``train_variant`` (it holds the arm) for the files' stable header."""
    if ablation.empty:
        return pd.DataFrame()
    table = ablation.pivot_table(index=["arm", "eval_variant"], columns="cluster", values="score", aggfunc="first")
    table = table[[*sorted(c for c in table.columns if c != MEAN_ROW), MEAN_ROW]]
    order = _sort(table.reset_index()[["arm", "eval_variant"]], [])
    table = table.loc[list(zip(order["arm"], order["eval_variant"], strict=True))]
    table.index.names = ["train_variant", "eval_variant"]
    table.columns.name = None
    return table


def _num_clusters(cells: list[dict], n_resamples: int, seed: int) -> pd.DataFrame:
    groups = group_cells(cells, lambda c, v: (arm_of(c), len(c.get("split", {}).get("train", [])), v))
    table, _ = summarize(groups, ["arm", "n_train_clusters", "eval_variant"], n_resamples=n_resamples, seed=seed)
    return table.sort_values(["eval_variant", "n_train_clusters", "cluster"]).reset_index(drop=True)


def build_report(root: str | Path, *, n_resamples: int = 1000, seed: int = 0) -> Report:
    """Collect the cells under ``root`` and summarise both studies; missing and failed cells go in ``status``."""
    cells = load_cells(root)
    ablation_cells = [c for c in cells if not is_num_clusters_cell(c)]
    cluster_cells = [c for c in cells if is_num_clusters_cell(c)]
    ablation, tasks, headline, semantics, cot, mixing = pd.DataFrame(), pd.DataFrame(), {}, {}, {}, {}
    if ablation_cells:
        groups = group_cells(ablation_cells, lambda c, v: (arm_of(c), v))
        reference = REFERENCE if REFERENCE in groups else None
        ablation, tasks = summarize(groups, ["arm", "eval_variant"], reference, n_resamples=n_resamples, seed=seed)
        trained, plain = SHUFFLED_CONTROL
        shuffled = compare(groups[trained], groups[plain], n_resamples=n_resamples, seed=seed) \
            if all(k in groups for k in SHUFFLED_CONTROL) else None
        ablation, shuffled_holm = apply_holm(ablation, [shuffled[MEAN_KEY]["p"]] if shuffled else [])
        ablation = _sort(_labelled(add_baseline(ablation), groups), ["cluster"])
        tasks = _sort(_labelled(tasks, groups), ["cluster", "task"])
        headline = headline_json(ablation, groups, ablation_cells, shuffled, shuffled_holm)
        semantics = build_semantics(groups, ablation, ablation_cells, n_resamples=n_resamples, seed=seed)
        cot = build_cot(groups, ablation, ablation_cells, n_resamples=n_resamples, seed=seed)
        mixing = build_mixing(groups, ablation, ablation_cells, n_resamples=n_resamples, seed=seed)
    num_clusters = _num_clusters(cluster_cells, n_resamples, seed) if cluster_cells else pd.DataFrame()
    return Report(ablation=ablation, wide=wide_table(ablation), indist=indist_table(ablation_cells),
                  num_clusters=num_clusters, status=grid_status(root, cells), tasks=tasks, headline=headline,
                  semantics=semantics, cot=cot, mixing=mixing, cells=cells,
                  curves=build_curves(ablation_cells, n_resamples=n_resamples, seed=seed))


def _num(x: object) -> float | None:
    """A JSON-safe number (NaN and missing are null)."""
    try:
        x = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _row(table: pd.DataFrame, arm: str, variant: str = "instruction") -> pd.Series | None:
    hit = table[(table["arm"] == arm) & (table["eval_variant"] == variant) & (table["cluster"] == MEAN_ROW)]
    return None if hit.empty else hit.iloc[0]


def _interval(row: pd.Series | None, prefix: str) -> dict | None:
    if row is None or _num(row[prefix]) is None:
        return None
    lo, hi = ("ci_low", "ci_high") if prefix == "score" else (f"{prefix}_ci_low", f"{prefix}_ci_high")
    return {"value": _num(row[prefix]), "ci_low": _num(row[lo]), "ci_high": _num(row[hi])}


def mean_ambiguity(cells: list[dict]) -> float | None:
    """The ambiguous fraction of the no-template training inputs (``data.ambiguity``), if any cell records it."""
    values = []
    for cell in sorted(cells, key=lambda c: arm_of(c) != "no_template"):
        value = (cell.get("data") or {}).get("ambiguity")
        if isinstance(value, dict):
            value = next((value[k] for k in ("no_template", "fraction", "ambiguous_fraction", "value")
                          if isinstance(value.get(k), int | float)), None)
        if isinstance(value, int | float):
            values.append(float(value))
            if arm_of(cell) == "no_template":
                break
    return values[-1] if values else None


def headline_json(table: pd.DataFrame, groups: dict[tuple, GroupData], cells: list[dict], shuffled: dict | None,
                  shuffled_holm: list[float]) -> dict:
    """The numbers the issue asks for, JSON-ready (null where the grid lacks an arm)."""
    out: dict = {"estimand": "mean over seeds of (mean over clusters of mean over tasks of mean over templates)",
                 "seeds": sorted({s for g in groups.values() for s in g.seeds}),
                 "min_seeds": int(table["seeds"].min()) if not table.empty else 0}
    nt = _row(table, "no_template")
    out["delta_instruction_vs_no_template"] = None if nt is None or _num(nt["diff_vs_ref"]) is None else {
        "diff": 0.0 - nt["diff_vs_ref"], "ci_low": _num(0.0 - nt["diff_ci_high"]),
        "ci_high": _num(0.0 - nt["diff_ci_low"]),
        "p": _num(nt["p_value"]), "p_holm": _num(nt["p_holm"]), "ci_kind": nt["ci_kind"]}
    out["heldout_acc_given_type"] = _interval(_row(table, "instruction"), "acc_given_type")
    out["heldout_type_acc"] = {arm: _interval(_row(table, arm), "type_acc")
                               for arm in dict.fromkeys(table["arm"]) if _row(table, arm) is not None}
    out["heldout_score"] = {arm: _interval(_row(table, arm), "score")
                            for arm in dict.fromkeys(table["arm"]) if _row(table, arm) is not None}
    out["oracle_heldout"] = _interval(_row(table, "oracle"), "score")
    out["shuffled_vs_no_template"] = None if shuffled is None else {
        "diff": _num(shuffled[MEAN_KEY]["diff"]), "ci_low": _num(shuffled[MEAN_KEY]["ci_low"]),
        "ci_high": _num(shuffled[MEAN_KEY]["ci_high"]),
        "p": _num(shuffled[MEAN_KEY]["p"]), "p_holm": _num(shuffled_holm[0]) if shuffled_holm else None,
        "ci_kind": shuffled["ci_kind"]}
    out["ambiguity"] = mean_ambiguity(cells)
    out["table"] = _records(table)
    return out


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (numpy scalars unboxed, NaN as null)."""
    def plain(v: object) -> object:
        v = v.item() if hasattr(v, "item") else v
        return _num(v) if isinstance(v, float) else v

    return [{k: plain(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _fmt(x: object, spec: str = ".3f") -> str:
    return "" if _num(x) is None else format(float(x), spec)


def _with_ci(value: object, low: object, high: object, examples_only: bool = False, sign: bool = False) -> str:
    """``0.412 [0.380, 0.441]`` (``†``: the CI resamples examples only)."""
    if _num(value) is None:
        return ""
    text = _fmt(value, "+.3f" if sign else ".3f")
    if _num(low) is not None:
        text += f" [{_fmt(low)}, {_fmt(high)}]"
    return text + ("†" if examples_only and _num(low) is not None else "")


def markdown_table(summary: pd.DataFrame) -> str:
    """The main table for humans (``summary_rows``) in Markdown, with footnotes saying what the CIs and
    p-values cover (``summary_notes``)."""
    if summary.empty:
        return ""
    notes = summary_notes(summary)
    return summary_rows(summary).to_markdown(index=False) + "\n\n" + "\n".join(f"- {n}" for n in notes)


def summary_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """One row of text per (arm, scoring variant): each cluster's score [CI], the mean [CI], type accuracy and
    accuracy given type (format vs content), Δ vs instruction [CI] with p and p_holm, and the untuned or
    random-init baseline."""
    clusters = sorted(c for c in summary["cluster"].unique() if c != MEAN_ROW)
    base_label = summary["baseline_label"].dropna().iloc[0] if "baseline_label" in summary and \
        summary["baseline_label"].notna().any() else "untuned"
    rows = []
    for (_, _), part in summary.groupby(["arm", "eval_variant"], sort=False):
        by = part.set_index("cluster")
        m = by.loc[MEAN_ROW]
        ex = m["ci_kind"] == "examples"
        row = {"trained with": m.get("label", m["arm"]), "scored with": m["eval_variant"], "seeds": int(m["seeds"])}
        row |= {c: _with_ci(by.loc[c, "score"], by.loc[c, "ci_low"], by.loc[c, "ci_high"], ex) if c in by.index
                else "" for c in clusters}
        row["mean"] = _with_ci(m["score"], m["ci_low"], m["ci_high"], ex)
        row["type acc"] = _with_ci(m["type_acc"], m["type_acc_ci_low"], m["type_acc_ci_high"], ex)
        row["acc | type"] = _with_ci(m["acc_given_type"], m["acc_given_type_ci_low"], m["acc_given_type_ci_high"], ex)
        row["Δ vs instruction"] = _with_ci(m["diff_vs_ref"], m["diff_ci_low"], m["diff_ci_high"], ex, sign=True)
        row["p"], row["p_holm"] = _fmt(m["p_value"]), _fmt(m["p_holm"])
        row[base_label] = _fmt(m.get("baseline"))
        rows.append(row)
    return pd.DataFrame(rows)


def summary_notes(summary: pd.DataFrame) -> list[str]:
    """What the main table's CIs, type metrics and p-values are."""
    notes = ["Score: mean over templates, then tasks, then clusters per seed, then over seeds; 95% CI from a "
             "hierarchical bootstrap (seeds, then examples within each seed, stratified by task).",
             "type acc (format): the picked answer has the gold's answer type; acc | type (content): right answers "
             "among right-type ones (a ratio per template); both over the tasks whose results carry answer types.",
             "Δ: paired on seeds and examples"
             + (f"; p: two-sided (paired bootstrap); p_holm: Holm over all {tested} p-values of the table (every row "
                "and cluster)." if (tested := int(summary["p_value"].notna().sum())) else ".")]
    if note := needs_seeds_note(summary):
        notes.append(note)
    return notes


def task_markdown(tasks: pd.DataFrame) -> str:
    """The per-task table (``task_table_text``) in Markdown."""
    return "" if tasks.empty else task_table_text(tasks).to_markdown(index=False)


def task_table_text(tasks: pd.DataFrame) -> pd.DataFrame:
    """The per-task table as text: accuracy [CI], chance, majority baseline, type accuracy, accuracy given type
    [CI], chance given type, and the options picked most often."""
    return pd.DataFrame({
        "trained with": tasks["label"], "scored with": tasks["eval_variant"], "cluster": tasks["cluster"],
        "task": tasks["task"],
        "acc": [_with_ci(v, lo, hi, k == "examples") for v, lo, hi, k in
                zip(tasks["score"], tasks["ci_low"], tasks["ci_high"], tasks["ci_kind"], strict=True)],
        "chance": tasks["chance"].map(_fmt), "majority": tasks["majority"].map(_fmt),
        "type acc": tasks["type_acc"].map(_fmt),
        "acc | type": [_with_ci(v, lo, hi, k == "examples") for v, lo, hi, k in
                       zip(tasks["acc_given_type"], tasks["acc_given_type_ci_low"], tasks["acc_given_type_ci_high"],
                           tasks["ci_kind"], strict=True)],
        "chance | type": tasks["chance_given_type"].map(_fmt), "top picks": tasks["top_picks"],
    })


def write_report(root: str | Path, out_dir: str | Path | None = None, *, figures: bool = True,
                 n_resamples: int = 1000, html: bool = False) -> Report:
    """Build the report for ``root``; save tables (CSV, Markdown, Parquet), ``report.json`` and figures. The
    self-contained ``report.html`` is the caller's to write, from the returned report
    (``flanlab.analysis.html_report.write_html``), so this module never imports the page's; ``html`` must stay
    false (kept for callers that said so)."""
    if html:
        raise TypeError("write_report no longer writes report.html: call "
                        "flanlab.analysis.html_report.write_html(report, root, out) with its result")
    from flanlab.io import atomic_write_json, atomic_write_text

    out = Path(out_dir or root)
    report = build_report(root, n_resamples=n_resamples)
    if not report.ablation.empty:
        save_table(report.ablation, out, "report_table")
        atomic_write_text(out / "report_table.md", markdown_table(report.ablation) + "\n")
    if not report.tasks.empty:
        save_table(report.tasks, out, "task_table")
        atomic_write_text(out / "task_table.md", task_markdown(report.tasks) + "\n")
    for name, frame in (("ablation_table", report.wide), ("indist_table", report.indist)):
        if not frame.empty:
            save_table(frame.reset_index(), out, name)
    if not report.num_clusters.empty:
        save_table(report.num_clusters, out, "num_clusters_table")
    save_table(report.status, out, "grid_status")
    if report.headline:
        semantics = {name: _records(t) for name, t in report.semantics.items()}
        atomic_write_json(out / "report.json", {**report.headline, "task_table": _records(report.tasks),
                                                **({"semantics": semantics} if semantics else {})})
    if figures:
        report.figures += _write_figures(report, out)
    if report.semantics:
        paths = write_semantics(report.semantics, out, figures=figures)
        report.figures += [p for p in paths if p.parent.name == "figures"]
    if report.cot:
        from flanlab.analysis.cot_report import write_cot

        report.figures += [p for p in write_cot(report.cot, out, figures=figures) if p.parent.name == "figures"]
    if report.mixing:
        from flanlab.analysis.mixing_report import write_mixing

        report.figures += [p for p in write_mixing(report.mixing, out, figures=figures) if p.parent.name == "figures"]
    if report.curves:
        from flanlab.analysis.curves_report import write_curves

        report.figures += [p for p in write_curves(report.curves, out, figures=figures) if p.parent.name == "figures"]
    return report


def _write_figures(report: Report, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from flanlab.analysis.figures import plot_num_clusters, plot_template_ablation, save_figure

    paths: list[Path] = []
    if not report.ablation.empty and (report.ablation["arm"] != "untuned").any():
        fig = plot_template_ablation(report.ablation)
        paths += save_figure(fig, out / "figures" / "template_ablation")
        plt.close(fig)
    if not report.num_clusters.empty:
        fig = plot_num_clusters(report.num_clusters)
        paths += save_figure(fig, out / "figures" / "num_clusters")
        plt.close(fig)
    return paths
