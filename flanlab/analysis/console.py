"""The sweep report on the console: the tables, the headline figures and the grid's status, as ``flanlab report``
and the end-of-sweep callback print them."""

from __future__ import annotations

from pathlib import Path

from flanlab.analysis.sweep_report import Report, markdown_table, task_markdown


def print_report(report: Report, root: str | Path, out: str | Path) -> None:
    """Print the main table, the per-task table, the other studies, the headline extras, then the grid status."""
    if not report.ablation.empty:
        print("\nZero-shot score on held-out clusters (rows: trained with / scored with; 95% CIs, "
              "a paired test against instruction-trained/instruction-scored, the untuned baseline)")
        print(markdown_table(report.ablation))
    if not report.tasks.empty:
        print("\nPer held-out task (accuracy [CI], chance, majority baseline, format vs content)")
        print(task_markdown(report.tasks))
    if not report.indist.empty:
        print("\nIn-distribution accuracy on the trained tasks (training variant)")
        print(report.indist.reset_index().to_markdown(index=False, floatfmt=".3f"))
    if not report.num_clusters.empty:
        cols = ["eval_variant", "n_train_clusters", "cluster", "seeds", "score", "ci_low", "ci_high", "ci_kind"]
        print("\nHeld-out score by number of training clusters")
        print(report.num_clusters[cols].to_markdown(index=False, floatfmt=".3f"))
    if report.mixing:
        from flanlab.analysis.mixing_report import mixing_markdown

        print("\n" + mixing_markdown(report.mixing))
    if report.curves:
        from flanlab.analysis.curves_report import curves_markdown

        print("\n" + curves_markdown(report.curves))
    _print_headline(report.headline)
    counts = report.status["state"].value_counts().to_dict()
    print("\nCells: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) if counts else "\nCells: none found")
    bad = report.status[(report.status["state"] != "complete") | (report.status["detail"] != "")]
    for row in bad.itertuples():
        print(f"  {row.state}: {row.cell}  {row.detail}")
    if report.ablation.empty and report.num_clusters.empty:
        print(f"flanlab: no complete cell under {root}; no score table written")
    print(f"\nSaved under {out}: report_table, task_table, ablation_table, indist_table, grid_status "
          "(.csv/.md/.parquet), report.json" + "".join(f"\n  {p}" for p in report.figures)
          + (f"\n  {report.html} (open it in a browser)" if report.html else ""))


def _print_headline(headline: dict) -> None:
    """The headline comparison, the ambiguity of no-template inputs and the oracle's held-out mean, when known."""
    if not headline:
        return
    print()
    delta = headline.get("delta_instruction_vs_no_template")
    if delta:
        p = "" if delta["p"] is None else f", p = {delta['p']:.3f} (Holm {delta['p_holm']:.3f})"
        print(f"instruction - no_template (held-out mean): {delta['diff']:+.3f} "
              f"[{delta['ci_low']:+.3f}, {delta['ci_high']:+.3f}]{p or ', p: needs ≥3 seeds'}")
    if headline.get("ambiguity") is not None:
        print(f"ambiguity of no-template training inputs: {headline['ambiguity']:.2f}")
    oracle = headline.get("oracle_heldout")
    if oracle:
        print(f"oracle held-out mean: {oracle['value']:.3f} [{oracle['ci_low']:.3f}, {oracle['ci_high']:.3f}]")
