#!/usr/bin/env bash
# slurm.sh — start a single-node Slurm (slurmctld + slurmd on this host, munge
# authentication) so the tests can run examples/slurm for real. Root only;
# idempotent. Writes /etc/slurm/slurm.conf: for CI and throwaway machines.
set -euo pipefail
if pgrep -x slurmctld >/dev/null && pgrep -x slurmd >/dev/null && sinfo -h >/dev/null 2>&1 && [ "$(sinfo -h -o %T 2>/dev/null | head -1)" = idle ]; then
	echo "slurm: already running" >&2
	exit 0
fi
. "$(dirname "$0")/deps.sh"
command -v slurmctld >/dev/null && command -v munged >/dev/null ||
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_SLURM procps >/dev/null; }
host=$(hostname -s)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
# The test cluster's state is disposable and its own: a fresh state folder on
# every start, so state left by another configuration (another ClusterName,
# nodes, jobs of a killed run) can never stop slurmctld from starting.
state=/var/spool/vidcache-slurm
pkill -x slurmctld 2>/dev/null || true
pkill -x slurmd 2>/dev/null || true
for _ in $(seq 1 20); do { pgrep -x slurmctld || pgrep -x slurmd; } >/dev/null || break; sleep 0.5; done
rm -rf "$state"
mkdir -p /etc/slurm "$state/ctld" "$state/d" /var/log/slurm /run/munge
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=vidcache-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=$state/d
StateSaveLocation=$state/ctld
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
if [ ! -s /etc/munge/munge.key ]; then
	mkdir -p /etc/munge
	dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
	chown munge:munge /etc/munge/munge.key
	chmod 400 /etc/munge/munge.key
fi
chown munge:munge /run/munge
# --force: a munged killed with its machine's session leaves its socket behind.
pgrep -x munged >/dev/null || su -s /bin/sh munge -c '/usr/sbin/munged --force'
slurmctld || { echo "slurm: slurmctld did not start:" >&2; tail -5 /var/log/slurm/slurmctld.log >&2; exit 1; }
slurmd || { echo "slurm: slurmd did not start:" >&2; tail -5 /var/log/slurm/slurmd.log >&2; exit 1; }
for _ in $(seq 1 30); do
	if [ "$(sinfo -h -o %T 2>/dev/null | head -1)" = idle ]; then
		echo "slurm: single-node cluster up on $host" >&2
		exit 0
	fi
	sleep 1
done
echo "slurm: the node did not become idle; see /var/log/slurm/" >&2
sinfo >&2 || true
tail -5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
