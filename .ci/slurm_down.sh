#!/usr/bin/env bash
# Stop what .ci/slurm_up.sh started, by the PIDs in the daemons' own pid files: slurmd, slurmctld, munged.
set -uo pipefail
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
  [ -s "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if "${SUDO[@]}" kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do "${SUDO[@]}" kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "slurm: stopped $(basename "$pidfile" .pid) (pid $pid)"
  fi
done
