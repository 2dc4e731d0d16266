"""A grid's report as one self-contained ``report.html``: inline CSS, figures as base64 PNGs, no network.

It shows the ablation table with CIs and the Fig. 8-style figure, the grid's status (done, stale, failed
with each error, incomplete, missing), in-distribution accuracy, the per-template spread, a few prompts per
scoring variant exactly as the model saw them with each arm's choice and the gold answer, each cell's config
where it differs from the other cells, and relative links to each cell's folder and W&B run files. A little
inline JavaScript sorts and filters the tables; without it the page reads the same. All text is escaped.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from pathlib import Path

import pandas as pd

from flanlab.analysis.collect import arm_of, config_built
from flanlab.analysis.curves import FIGURE as CURVES_FIGURE
from flanlab.analysis.grid_status import stale_results
from flanlab.analysis.sweep_report import (
    Report,
    arm_label,
    is_num_clusters_cell,
    summary_notes,
    summary_rows,
    task_table_text,
)
from flanlab.analysis.tables import VARIANT_ORDER, template_spread

HTML_FILE = "report.html"

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1400px;
       padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; } h3 { margin-bottom: .3rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d4d4d4; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f1f3f5; } tr:nth-child(even) td { background: #fafafa; }
th.sortable { cursor: pointer; } th.sortable::after { content: " \\2195"; color: #999; }
.wrap { overflow-x: auto; } .note { color: #555; font-size: .9rem; } .filter { margin: .3rem 0; width: 18rem; }
.complete { color: #05702f; } .stale { color: #9a6100; font-weight: 600; }
.failed, .missing, .incomplete { color: #b3261e; font-weight: 600; }
.counts span { margin-right: 1.2rem; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
pre { background: #f6f8fa; padding: .5rem; white-space: pre-wrap; margin: .2rem 0; max-width: 80rem; }
.sample { border-left: 3px solid #ccc; padding-left: .8rem; margin: 1rem 0; }
.right { color: #05702f; } .wrong { color: #b3261e; } details > summary { cursor: pointer; font-weight: 600; }
"""

SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var box = document.createElement("input");
  box.className = "filter"; box.placeholder = "filter rows"; box.type = "search";
  table.parentNode.insertBefore(box, table);
  var body = table.tBodies[0];
  box.addEventListener("input", function () {
    var q = box.value.toLowerCase();
    Array.from(body.rows).forEach(function (r) {
      r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
    });
  });
  Array.from(table.tHead.rows[0].cells).forEach(function (th, i) {
    th.classList.add("sortable");
    th.addEventListener("click", function () {
      var up = th.dataset.dir !== "up"; th.dataset.dir = up ? "up" : "down";
      var rows = Array.from(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].textContent.trim(), y = b.cells[i].textContent.trim();
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return up ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def esc(value: object) -> str:
    """Any value as escaped text: floats to three decimals, NaN and None as empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value), quote=True)


def link(target: Path, out: Path, text: str) -> str:
    """A link to a local file or folder, relative to the folder holding ``report.html``."""
    return f'<a href="{esc(Path(os.path.relpath(target, out)).as_posix())}">{esc(text)}</a>'


def table(frame: pd.DataFrame, *, index: bool = False, sortable: bool = True, raw: tuple[str, ...] = ()) -> str:
    """A DataFrame as an HTML table; every cell escaped, except in the ``raw`` columns (HTML built here from
    escaped parts)."""
    if frame.empty:
        return '<p class="note">(none)</p>'
    flat = frame.reset_index() if index else frame
    head = "".join(f"<th>{esc(c)}</th>" for c in flat.columns)
    keep = [c in raw for c in flat.columns]
    body = "".join("<tr>" + "".join(f"<td>{v if k else esc(v)}</td>" for v, k in zip(row, keep, strict=True))
                   + "</tr>" for row in flat.itertuples(index=False))
    cls = ' class="sortable"' if sortable else ""
    return f'<div class="wrap"><table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def figure(path: Path, caption: str) -> str:
    """A PNG inlined as a base64 data URI."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{esc(caption)}">'
            f"<figcaption class=\"note\">{esc(caption)}</figcaption></figure>")


def ablation_section(report: Report) -> str:
    """The main table with CIs and its notes, the cluster-by-column means, the per-task table and the figures."""
    if report.ablation.empty:
        return '<h2>Held-out scores</h2><p class="note">No complete ablation cell: no score table.</p>'
    notes = "".join(f"<li>{esc(n)}</li>" for n in summary_notes(report.ablation))
    parts = ["<h2>Held-out zero-shot scores</h2>",
             '<p class="note">Rows: trained with / scored with; 95% CIs; a paired test against '
             "instruction-trained, instruction-scored; the untuned baseline.</p>",
             table(summary_rows(report.ablation)), f'<ul class="note">{notes}</ul>']
    parts += [figure(p, p.stem.replace("_", " ")) for p in report.figures
              if p.suffix == ".png" and p.stem != CURVES_FIGURE]  # the curves have their own section
    parts += ["<h3>Score per cluster (means over seeds)</h3>", table(report.wide, index=True)]
    if not report.tasks.empty:
        parts += ["<details><summary>Per held-out task</summary>", table(task_table_text(report.tasks)), "</details>"]
    if not report.num_clusters.empty:
        cols = ["eval_variant", "n_train_clusters", "cluster", "seeds", "score", "ci_low", "ci_high", "ci_kind"]
        parts += ["<h3>Held-out score by number of training clusters</h3>", table(report.num_clusters[cols])]
    return "\n".join(parts)


def curves_section(report: Report) -> str:
    """Transfer during training: the curves figure, when each arm's format and content first rise above chance,
    and the instruction arm's lead over no template step by step (``flanlab.analysis.curves``)."""
    if not report.curves:
        return ""
    from flanlab.analysis.curves_report import DEFINITIONS, crossings_text, lead_text

    curves = report.curves
    parts = ["<h2>Transfer during training</h2>", f'<p class="note">{esc(DEFINITIONS)}</p>']
    parts += [figure(p, "held-out score, format and content during training, with in-distribution accuracy")
              for p in report.figures if p.suffix == ".png" and p.stem == CURVES_FIGURE]
    parts += ["<h3>When each arm rises above chance for good</h3>", table(crossings_text(curves["crossings"])),
              "<h3>Instruction's lead over no template (paired on seeds and rows)</h3>",
              table(lead_text(curves["lead_summary"], curves["lead"]))]
    return "\n".join(parts)


def headline_section(headline: dict) -> str:
    """The headline comparison, the ambiguity of no-template inputs and the oracle's mean, when known."""
    items = []
    if delta := headline.get("delta_instruction_vs_no_template"):
        p = "" if delta["p"] is None else f", p = {delta['p']:.3f} (Holm {delta['p_holm']:.3f})"
        items.append(f"instruction − no_template, held-out mean: <b>{delta['diff']:+.3f}</b> "
                     f"[{delta['ci_low']:+.3f}, {delta['ci_high']:+.3f}]{esc(p or ', p needs ≥ 3 seeds')}")
    if headline.get("ambiguity") is not None:
        items.append(f"ambiguity of no-template training inputs: {headline['ambiguity']:.2f}")
    if oracle := headline.get("oracle_heldout"):
        items.append(f"oracle held-out mean: {oracle['value']:.3f} [{oracle['ci_low']:.3f}, {oracle['ci_high']:.3f}]")
    return f"<ul>{''.join(f'<li>{i}</li>' for i in items)}</ul>" if items else ""


def cell_files(folder: Path, out: Path) -> str:
    """Links to a cell's folder, its results or failure file, and each W&B run folder and ``.wandb`` file."""
    links = [link(folder, out, "folder")]
    links += [link(folder / name, out, name) for name in ("results.json", "failed.json") if (folder / name).is_file()]
    for run in sorted((folder / "wandb").glob("offline-run-*")):
        links.append(link(run, out, f"W&B {run.name.rsplit('-', 1)[-1]}"))
        links += [link(f, out, f.name) for f in sorted(run.glob("*.wandb"))]
    return " · ".join(links)


def status_section(report: Report, root: Path, out: Path, stale: dict[str, str]) -> str:
    """Counts per state, then one row per cell: its state (``stale`` for complete results made with other
    templates or code), what went wrong, and links to its files."""
    rows = []
    for r in report.status.itertuples():
        folder = root / r.cell
        reason = stale.get(str(folder))
        state, detail = ("stale", reason) if r.state == "complete" and reason else (r.state, r.detail)
        files = cell_files(folder, out) if folder.is_dir() else ""
        rows.append({"cell": r.cell, "state": f'<span class="{esc(state)}">{esc(state)}</span>',
                     "detail": detail, "files": files, "_state": state})
    frame = pd.DataFrame(rows, columns=["cell", "state", "detail", "files", "_state"])
    counts = frame["_state"].value_counts().to_dict()
    names = {"complete": "done"}
    summary = "".join(f'<span class="{esc(s)}">{n} {esc(names.get(s, s))}</span>'
                      for s, n in sorted(counts.items())) or "no cell found"
    return ("<h2>Grid status</h2>"
            f'<p class="counts">{summary}</p>' + table(frame.drop(columns="_state"), raw=("state", "files")))


def indist_section(report: Report, cells: list[dict]) -> str:
    """In-distribution accuracy on the trained tasks, and how much held-out scores move with the template."""
    spread = template_spread(cells)
    return ("<h2>In-distribution accuracy</h2>"
            '<p class="note">Trained tasks, scored with the training variant; per training variant and '
            "held-out cluster.</p>" + table(report.indist, index=True)
            + "<h2>Per-template spread</h2>"
            '<p class="note">Per held-out task: each template\'s score averaged over seeds, then the number of '
            "templates, their mean, lowest, highest, spread (highest − lowest) and standard deviation.</p>"
            + table(spread))


def _first_seed_per_arm(cells: list[dict]) -> dict[tuple[str, str], dict]:
    """Each arm's cell of the lowest seed that scored a task, keyed by (arm, task): whose choices are shown."""
    chosen: dict[tuple[str, str], dict] = {}
    for cell in sorted(cells, key=lambda c: (int(c["cell"].get("seed", 0)), c["dir"])):
        for block in cell.get("zeroshot", {}).values():
            for task in {t["task"] for t in block.get("templates", [])}:
                chosen.setdefault((arm_of(cell), task), cell)
    return chosen


def gather_samples(cells: list[dict]) -> dict[str, dict[str, list[dict]]]:
    """Kept prompts by scoring variant and task, each with every arm's choice (lowest seed): a sample is one
    (template, row, prompt text), shared by the arms that scored it."""
    owners = _first_seed_per_arm(cells)
    out: dict[str, dict[str, dict[tuple, dict]]] = {}
    for (arm, task), cell in owners.items():
        for variant, block in cell.get("zeroshot", {}).items():
            for t in block.get("templates", []):
                if t["task"] != task:
                    continue
                for s in t.get("samples") or []:
                    k = (t["template_id"], s["row"], s["prompt"])
                    entry = out.setdefault(variant, {}).setdefault(task, {}).setdefault(
                        k, {"template_id": t["template_id"], "row": s["row"], "prompt": s["prompt"],
                            "options": s.get("options") or [], "gold": s["gold"], "chosen": {}})
                    entry["chosen"][arm_label(arm, config_built(cell))] = s["chosen"]
    return {v: {task: list(by.values()) for task, by in tasks.items()} for v, tasks in out.items()}


def sample_html(task: str, s: dict) -> str:
    """One prompt verbatim, the options ranked, the gold answer and each arm's choice (right or wrong)."""
    choices = "".join(
        f'<tr><td>{esc(arm)}</td><td class="{"right" if c == s["gold"] else "wrong"}">{esc(c or "(nothing)")} '
        f'{"✓" if c == s["gold"] else "✗"}</td></tr>' for arm, c in sorted(s["chosen"].items()))
    options = f'<div class="note">options: {esc(" | ".join(s["options"]))}</div>' if s["options"] else ""
    return (f'<div class="sample"><div class="note">{esc(task)} · template {esc(s["template_id"])} · '
            f'row {esc(s["row"])}</div><pre>{esc(s["prompt"])}</pre>{options}'
            f"<div>gold: <b>{esc(s['gold'])}</b></div>"
            f"<table><thead><tr><th>trained with</th><th>chose</th></tr></thead><tbody>{choices}</tbody></table></div>")


def samples_section(cells: list[dict]) -> str:
    """For each scoring variant, the kept prompts of each held-out task."""
    samples = gather_samples(cells)
    parts = ["<h2>Sample prompts</h2>",
             '<p class="note">Exactly as rendered for scoring, with the gold answer and each arm\'s choice '
             "(its lowest seed).</p>"]
    if not samples:
        return parts[0] + '<p class="note">These results carry no prompt samples (scored before flanlab kept ' \
                          "them); rescoring the cells adds them.</p>"
    rank = {v: i for i, v in enumerate(VARIANT_ORDER)}
    for variant in sorted(samples, key=lambda v: (rank.get(v, 99), v)):
        body = "".join(sample_html(task, s) for task in sorted(samples[variant]) for s in samples[variant][task])
        parts.append(f"<details open><summary>scored with {esc(variant)}</summary>{body}</details>")
    return "\n".join(parts)


def flatten(config: object, prefix: str = "") -> dict[str, str]:
    """A nested config as ``{"a.b.c": value as text}``: strings as they are, anything else (lists stay whole)
    as JSON."""
    if isinstance(config, dict) and config:
        return {k: v for key, sub in config.items() for k, v in flatten(sub, f"{prefix}{key}.").items()}
    text = config if isinstance(config, str) else json.dumps(config, sort_keys=True, default=str)
    return {prefix.rstrip("."): text}


def config_diff(cells: list[dict], root: Path) -> tuple[pd.DataFrame, int]:
    """One row per complete cell and one column per config key whose value is not the same in every cell
    (a key some cells lack counts as varying); with the number of keys every cell shares."""
    flat = {str(Path(c["dir"]).relative_to(root)) if Path(c["dir"]).is_relative_to(root) else c["dir"]:
            flatten(c.get("config") or {}) for c in cells}
    keys = sorted({k for f in flat.values() for k in f})
    varying = [k for k in keys if len({f.get(k) for f in flat.values()}) > 1]
    rows = [{"cell": name, **{k: f.get(k, "—") for k in varying}} for name, f in flat.items()]
    return pd.DataFrame(rows, columns=["cell", *varying]), len(keys) - len(varying)


def config_section(cells: list[dict], root: Path) -> str:
    """Each cell's config against the experiment's: only the keys that vary across cells."""
    diff, shared = config_diff(cells, root)
    return ("<h2>Config per cell</h2>"
            f'<p class="note">Only the keys that differ between complete cells; {shared} keys are the same in every '
            "cell (see any cell's results.json or .hydra/config.yaml).</p>" + table(diff))


def render_html(report: Report, root: str | Path, out: str | Path) -> str:
    """The whole page for ``report`` of the grid under ``root``, with links relative to ``out``."""
    root, out = Path(root).resolve(), Path(out).resolve()
    cells = [{**cell, "dir": str(Path(cell["dir"]).resolve())} for cell in report.cells]
    ablation_cells = [c for c in cells if not is_num_clusters_cell(c)]
    sections = [ablation_section(report), headline_section(report.headline), curves_section(report),
                status_section(report, root, out, stale_results(cells)), indist_section(report, ablation_cells),
                samples_section(ablation_cells), config_section(cells, root)]
    title = f"flanlab report: {root.name}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>"
            f'<p class="note">{esc(str(root))}</p>\n' + "\n".join(s for s in sections if s)
            + f"\n<script>{SCRIPT}</script></body></html>\n")


def write_html(report: Report, root: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` into ``out`` (default: ``root``) and return its path."""
    from flanlab.io import atomic_write_text

    path = Path(out or root) / HTML_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, render_html(report, root, path.parent))
    return path
