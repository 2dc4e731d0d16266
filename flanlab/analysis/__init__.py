"""Collecting cell results into tables and figures (notebooks call these; they compute nothing). Every score is
the estimand of ``flanlab.estimand``, computed per cell by ``flanlab.scoring.aggregate`` and over seeds by
``flanlab.analysis.stats``; ``build_report`` (``flanlab.analysis.sweep_report``) is the entry point."""

from flanlab.analysis.collect import load_cells
from flanlab.analysis.tables import indist_table

__all__ = ["indist_table", "load_cells"]
