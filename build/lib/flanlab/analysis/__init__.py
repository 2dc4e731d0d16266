"""Collecting cell results into tables and figures (notebooks call these; they compute nothing)."""

from flanlab.analysis.collect import load_cells, scores_frame
from flanlab.analysis.tables import ablation_table, indist_table

__all__ = ["ablation_table", "indist_table", "load_cells", "scores_frame"]
