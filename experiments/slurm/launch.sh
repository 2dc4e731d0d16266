#!/usr/bin/env bash
# Submit a flanlab grid to SLURM: one job array with one cell per task (torchrun over NODES x GPUS_PER_NODE inside,
# experiments/slurm/cell.sbatch), then a job that writes the report once every cell has ended.
#   experiments/slurm/launch.sh +experiment=ablation seed=0,1,2             # gpu.conf
#   CONF=experiments/slurm/cpu.conf SWEEP_DIR=outputs/slurm_cpu experiments/slurm/launch.sh template=untuned,instruction
# The arguments are those of `python -m flanlab -m`; bad input stops before anything is submitted.
# Environment: CONF (launcher config, default gpu.conf beside this script), SWEEP_DIR (default outputs/slurm/sweep;
# on a filesystem every node sees), PYTHON (default: python on PATH), and any key of the launcher config.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "${CONF:-$here/gpu.conf}"
PYTHON=$(command -v "${PYTHON:-python}")
SWEEP_DIR=$(mkdir -p "${SWEEP_DIR:-outputs/slurm/sweep}" && cd "${SWEEP_DIR:-outputs/slurm/sweep}" && pwd)
cells="$SWEEP_DIR/cells.txt"
"$PYTHON" "$here/cells.py" "$@" >"$cells"
n=$(wc -l <"$cells")
opts=(--parsable --partition "$PARTITION" --nodes "$NODES" --ntasks-per-node 1 --cpus-per-task "$CPUS_PER_TASK"
      --mem "$MEM" --time "$TIME")
[ -n "$ACCOUNT" ] && opts+=(--account "$ACCOUNT")
[ "$GPUS_PER_NODE" -gt 0 ] && opts+=(--gpus-per-node "$GPUS_PER_NODE")
array=$(sbatch "${opts[@]}" --job-name flanlab-cell --array "0-$((n - 1))%$PARALLEL" \
  --output "$SWEEP_DIR/slurm-%A_%a.out" \
  --export "ALL,CELLS=$cells,SWEEP_DIR=$SWEEP_DIR,PROCS_PER_NODE=$PROCS_PER_NODE,PYTHON=$PYTHON" "$here/cell.sbatch")
report=$(sbatch --parsable --partition "$PARTITION" --ntasks 1 --cpus-per-task 1 --mem "$REPORT_MEM" --time 00:30:00 \
  ${ACCOUNT:+--account "$ACCOUNT"} --job-name flanlab-report --dependency "afterany:$array" \
  --output "$SWEEP_DIR/slurm-report-%j.out" --wrap "'$PYTHON' -m flanlab report '$SWEEP_DIR'")
echo "submitted $n cells as job array $array, then the report as job $report; cells and logs in $SWEEP_DIR"
