"""A Hydra callback that prints and saves the ablation table once every cell of a sweep is done."""

from __future__ import annotations

import logging
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from flanlab.analysis.tables import write_report

log = logging.getLogger(__name__)


class AblationReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        root = config.hydra.sweep.dir
        table, indist = write_report(root)
        if table.empty:
            print(f"flanlab: no complete cell under {root}; no table written")
            return
        print("\nZero-shot score on held-out clusters (rows: trained with / scored with)")
        print(table.reset_index().to_markdown(index=False, floatfmt=".3f"))
        if not indist.empty:
            print("\nIn-distribution accuracy on the trained tasks (training variant)")
            print(indist.reset_index().to_markdown(index=False, floatfmt=".3f"))
        print(f"\nSaved under {root}: ablation_table.{{csv,md,parquet}}, indist_table.{{csv,md,parquet}}")
