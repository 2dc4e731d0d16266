"""The one estimand and its uncertainty, at the bottom of the package: ``rollup`` turns per-template scores into
task, cluster and held-out-mean scores (FLAN's weighting), ``bootstrap`` gives their confidence intervals and
paired tests. The per-cell summary (``flanlab.scoring.aggregate``) and the grid statistics
(``flanlab.analysis.stats``) both use these, so every number of a report has the same weighting
(docs/scoring.md)."""
