#!/usr/bin/env bash
# A second, two-node SLURM cluster on this one machine, to check cell.sbatch's multi-node path (one torchrun per
# node, c10d rendezvous on the first node): nodes n1 and n2 (1 CPU each, both 127.0.0.1), partition `two`, its
# own ports and files under DIR, so the one-node cluster of .ci/slurm_up.sh (whose munged it uses) keeps running.
#   bash experiments/slurm/two_nodes.sh up /tmp/slurm2     # then: export SLURM_CONF=/tmp/slurm2/slurm.conf
#   bash experiments/slurm/two_nodes.sh down /tmp/slurm2   # stops its three daemons by PID
# Run as root, after `bash .ci/slurm_up.sh`.
set -euo pipefail
action=${1:?usage: two_nodes.sh up|down DIR}
dir=${2:?usage: two_nodes.sh up|down DIR}
export SLURM_CONF="$dir/slurm.conf"

if [ "$action" = down ]; then
  for pidfile in "$dir"/slurmd-n1.pid "$dir"/slurmd-n2.pid "$dir"/slurmctld.pid; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null && echo "stopped $(basename "$pidfile" .pid)"
  done
  exit 0
fi

mkdir -p "$dir/ctld" "$dir/log"
node=$(slurmd -C | head -n 1 | sed -E 's/^NodeName=[^ ]+ //; s/CPUs=[0-9]+/CPUs=1/; s/CoresPerSocket=[0-9]+/CoresPerSocket=1/;
  s/RealMemory=[0-9]+/RealMemory=8000/')
cat >"$SLURM_CONF" <<EOF
ClusterName=flanlab2
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
SlurmdParameters=config_overrides
PropagatePrioProcess=1
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
NodeName=n1 NodeAddr=127.0.0.1 NodeHostname=$(hostname -s) Port=6921 $node
NodeName=n2 NodeAddr=127.0.0.1 NodeHostname=$(hostname -s) Port=6922 $node
PartitionName=two Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
EOF
/usr/sbin/slurmctld </dev/null >/dev/null 2>&1
/usr/sbin/slurmd -N n1 </dev/null >/dev/null 2>&1
/usr/sbin/slurmd -N n2 </dev/null >/dev/null 2>&1
for _ in $(seq 100); do
  [ "$(sinfo -h -p two -o '%D %t' 2>/dev/null)" = "2 idle" ] && { sinfo; exit 0; }
  sleep 0.2
done
echo "partition two did not come up (see $dir/log/)" >&2
exit 1
