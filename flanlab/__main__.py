"""``python -m flanlab``: a thin Hydra entry point over ``flanlab.pipeline.run_cell``."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import flanlab.sweeps  # noqa: F401 - registers the ${flanlab.cell_dir:} resolver
from flanlab.errors import FlanlabError, user_error
from flanlab.paths import config_dir

log = logging.getLogger("flanlab")
QUIET_LOGGERS = ("absl", "fontTools", "matplotlib", "datasets", "urllib3", "filelock")


# Deprecation notices raised inside a library's own code path (peft asking transformers about gradient
# checkpointing), which a user can do nothing about.
QUIET_WARNINGS = (r".*is_gradient_checkpointing.*",)


def quiet_libraries() -> None:
    """Library loggers down to warnings; no ``datasets`` bars for the many small maps, nor transformers'
    per-file "Loading weights" bars; and no library-internal deprecation notices."""
    import warnings

    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for pattern in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern, category=FutureWarning)
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


CONFIG_DIR = str(config_dir())  # the checkout's conf/, or the copy inside an installed wheel


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> float | None:
    from hydra.types import RunMode

    from flanlab.sweeps.cell_runner import guarded_cell

    quiet_libraries()
    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    group = f"{cfg.experiment_name}/{Path(hc.sweep.dir).name}" if multirun else str(cfg.experiment_name)
    if not multirun:
        from flanlab.config_summary import print_summary

        print_summary(cfg, dict(hc.runtime.choices), hc.runtime.output_dir)
    try:
        results = guarded_cell(cfg, Path(hc.runtime.output_dir), lazy_run_cell, choices=dict(hc.runtime.choices),
                               group=group, isolate=multirun)
    except Exception as err:
        cause = user_error(err)
        if cause is None or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"flanlab: error: {cause}", file=sys.stderr)
        sys.exit(2)
    if results is None:
        return None
    means = {k: v for k, v in results["metrics"].items() if k.startswith("zeroshot/") and k.endswith("/mean")}
    for key, value in sorted(means.items()):
        log.info("%s = %.4f", key, value)
    return next(iter(means.values()), None)


def lazy_run_cell(cfg: DictConfig, output_dir: Path, **kwargs) -> dict:
    """``flanlab.pipeline.run_cell``, imported only when a cell runs: a skipped cell never loads the model stack."""
    from flanlab.pipeline import run_cell as run

    return run(cfg, output_dir, **kwargs)


def cli() -> None:
    """``flanlab report <dir>`` builds a sweep's report, ``flanlab catalogue check`` checks the FLAN catalogue against
    the hub, ``flanlab export`` / ``flanlab export-tasks`` export a cell's model / held-out tasks (docs/export.md);
    anything else is a Hydra run."""
    quiet_libraries()  # also in this process: sweep callbacks and the report (its PDF figure) run here
    if len(sys.argv) > 1 and sys.argv[1] == "report":
        from flanlab.report_command import main as report_main

        sys.exit(report_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] in ("export", "export-tasks"):
        from flanlab.export_command import main as export_main

        sys.exit(export_main(sys.argv[1:]))
    if len(sys.argv) > 1 and sys.argv[1] == "catalogue":
        from flanlab.catalogue_command import main as catalogue_main

        sys.exit(catalogue_main(sys.argv[2:]))
    from flanlab.cli_checks import check_command_line

    try:
        check_command_line(sys.argv[1:], CONFIG_DIR)  # one-line errors for what Hydra reports verbosely
    except FlanlabError as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"flanlab: error: {err}", file=sys.stderr)
        sys.exit(2)
    main()


if __name__ == "__main__":
    cli()
