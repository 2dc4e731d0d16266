"""Print a flanlab grid's cells, one per line as shell-quoted overrides, after the command line's checks.

    python experiments/slurm/cells.py +experiment=ablation seed=0,1,2 > cells.txt

The arguments are those of ``python -m flanlab -m ...``; each line is one cell of that multirun (an experiment's
``hydra.sweeper.params`` included). Bad input stops here with the CLI's one-line ``flanlab: error:``, before
anything is submitted. ``launch.sh`` calls it; ``cell.sbatch`` runs line ``$SLURM_ARRAY_TASK_ID``.
"""

from __future__ import annotations

import shlex
import sys

from flanlab.cli_checks import check_command_line
from flanlab.errors import FlanlabError
from flanlab.paths import config_dir
from flanlab.sweeps.grid import command_line_cells


def main(argv: list[str]) -> int:
    conf = config_dir()
    try:
        check_command_line(["-m", *argv], conf)
    except FlanlabError as err:
        print(f"flanlab: error: {err}", file=sys.stderr)
        return 2
    for cell in command_line_cells(argv, conf):
        print(shlex.join(cell))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
