#!/usr/bin/env bash
# A one-node SLURM cluster on this machine for tests/integration/test_slurm.py: munged, slurmctld and slurmd,
# with this host in partition `cpu`. Idempotent: a cluster that is already up is kept (its slurm.conf updated
# with `scontrol reconfigure` if this script's differs). Never fatal: without root (or passwordless sudo), apt or
# working daemons it says why and exits 0, and the SLURM test skips. Its last line is `slurm: up` when `srun`
# ran a job step. Stop the daemons with .ci/slurm_down.sh (by PID).
set -uo pipefail

say() { echo "slurm: $*"; }
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  say "not root and no passwordless sudo: cluster not started (the SLURM test skips)"; exit 0
fi
as_root() { "${SUDO[@]}" "$@"; }

partition_up() { timeout 10 sinfo -h -p cpu -o '%a %t' 2>/dev/null | grep -Eq '^up +(idle|mix|alloc)'; }
step_runs() { timeout 30 srun -p cpu -N1 -n1 -t 1 true >/dev/null 2>&1; }

install_packages() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
  "${apt[@]}" install -y -qq slurm-wlm munge >/dev/null 2>&1 && return 0
  "${apt[@]}" update -qq >/dev/null 2>&1 && "${apt[@]}" install -y -qq slurm-wlm munge >/dev/null 2>&1
}

start_munge() {
  as_root install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  as_root install -d -o munge -g munge -m 0755 /run/munge
  if ! as_root test -s /etc/munge/munge.key; then
    as_root dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    as_root chown munge:munge /etc/munge/munge.key && as_root chmod 0400 /etc/munge/munge.key
  fi
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
  as_root su -s /bin/sh munge -c /usr/sbin/munged </dev/null >/dev/null 2>&1  # daemons keep no pipe of ours open
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

config_text() {  # slurm.conf for this host, with its CPUs and memory as slurmd itself detects them
  local host node
  host=$(hostname -s)
  node=$(slurmd -C 2>/dev/null | head -n 1 | sed -E 's/^NodeName=[^ ]+ //')
  cat <<EOF
# Written by flanlab's .ci/slurm_up.sh: one node, partition cpu, no accounting.
ClusterName=flanlab
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
SlurmdParameters=config_overrides
PropagatePrioProcess=1
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

write_config() {  # install file $1 as /etc/slurm/slurm.conf
  as_root install -d -m 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  as_root install -m 0644 "$1" /etc/slurm/slurm.conf
}

running() { [ -s "$1" ] && as_root kill -0 "$(cat "$1")" 2>/dev/null; }
start_slurm() {
  running /run/slurmctld.pid || as_root /usr/sbin/slurmctld </dev/null >/dev/null 2>&1 || return 1
  running /run/slurmd.pid || as_root /usr/sbin/slurmd </dev/null >/dev/null 2>&1 || return 1
  for _ in $(seq 100); do partition_up && return 0; sleep 0.2; done
  return 1
}

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  install_packages || { say "could not install slurm-wlm and munge with apt-get: cluster not started"; exit 0; }
fi
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
config_text >"$conf"
if partition_up && step_runs; then  # already running: keep it, with this script's config
  if ! cmp -s "$conf" /etc/slurm/slurm.conf; then write_config "$conf" && as_root scontrol reconfigure; fi
  say "already running"; say up; exit 0
fi
start_munge || { say "munged did not start: cluster not started"; exit 0; }
write_config "$conf"
start_slurm || { say "slurmctld/slurmd did not bring partition cpu up (see /var/log/slurm/): not started"; exit 0; }
step_runs || { say "partition cpu is up but srun failed: see /var/log/slurm/slurmd.log"; exit 0; }
sinfo -p cpu
say up
