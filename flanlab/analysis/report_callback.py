"""A Hydra callback that writes and prints the grid's report once every cell of a sweep has run."""

from __future__ import annotations

from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class SweepReport(Callback):
    """``on_multirun_end``: ``flanlab report <sweep dir>`` (tables, figures, failed and missing cells)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from flanlab.analysis.console import print_report
        from flanlab.analysis.html_report import write_html
        from flanlab.analysis.sweep_report import write_report

        root = config.hydra.sweep.dir
        report = write_report(root)
        report.html = write_html(report, root, root)
        print_report(report, root, root)
