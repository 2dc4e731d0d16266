"""``python -m flanlab``: a thin Hydra entry point over ``flanlab.pipeline.run_cell``."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from flanlab.errors import FlanlabError

log = logging.getLogger("flanlab")
CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> float | None:
    from flanlab.pipeline import RESULTS_FILE, run_cell

    hc = HydraConfig.get()
    output_dir = Path(hc.runtime.output_dir)
    if cfg.resume_complete and (output_dir / RESULTS_FILE).exists():
        log.info("cell %s already has results; skipping", output_dir.name)
        return None
    try:
        results = run_cell(cfg, output_dir, choices=dict(hc.runtime.choices))
    except FlanlabError as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"flanlab: error: {err}", file=sys.stderr)
        sys.exit(2)
    means = {k: v for k, v in results["metrics"].items() if k.startswith("zeroshot/") and k.endswith("/mean")}
    for key, value in sorted(means.items()):
        log.info("%s = %.4f", key, value)
    return next(iter(means.values()), None)


if __name__ == "__main__":
    main()
