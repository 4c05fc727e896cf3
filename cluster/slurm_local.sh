#!/usr/bin/env bash
# A single-node SLURM on loopback, for the SLURM tests (tests/test_slurm.py) and for trying
# `lunadyn submit` on one machine. Debian/Ubuntu, run as root.
#
#   cluster/slurm_local.sh [start]   install slurm-wlm + munge if missing, write a minimal slurm.conf for
#                                    this host, start munged, slurmctld and slurmd, wait until the node is idle
#   cluster/slurm_local.sh stop      cancel the remaining jobs, stop slurmctld, slurmd and munged
#   cluster/slurm_local.sh status    sinfo and the daemons' pids
#
# Idempotent: a second `start` finds the packages, keeps an unchanged slurm.conf and running daemons
# (it restarts them if the configuration changed). Daemons are stopped through their pid files only.
# Jobs run as root (SlurmUser=SlurmdUser=root; root jobs are allowed), processes are tracked by
# proctrack/linuxproc with task/none (no cgroups needed), MpiDefault=none (jobs start MPI themselves
# with mpiexec), no accounting database: finished jobs stay visible to `scontrol show job` for
# MinJobAge seconds and are logged to $LOG_DIR/jobcomp.log.
set -euo pipefail

ACTION=${1:-start}
CONF_DIR=${SLURM_CONF_DIR:-/etc/slurm}
CONF=$CONF_DIR/slurm.conf
SPOOL=/var/spool
LOG_DIR=/var/log/slurm
RUN_DIR=/run
PARTITION=${SLURM_LOCAL_PARTITION:-debug}
NODE=$(hostname -s)

say() { echo "slurm_local: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (slurmd runs as root and jobs run as root)"

alive() {  # alive PIDFILE: the pid in the file is a running process
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

stop_pidfile() {  # stop_pidfile PIDFILE NAME
    if alive "$1"; then
        local pid; pid=$(cat "$1")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && { say "$2 ($pid) did not stop; SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }
        say "stopped $2 ($pid)"
    fi
    rm -f "$1"
}

install_packages() {
    local missing=()
    command -v munged >/dev/null 2>&1 || missing+=(munge)
    command -v slurmctld >/dev/null 2>&1 || missing+=(slurmctld)
    command -v slurmd >/dev/null 2>&1 || missing+=(slurmd)
    command -v sbatch >/dev/null 2>&1 || missing+=(slurm-client)
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # no service starts during the install (no init system here, and we start the daemons ourselves)
    local guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; guard=1
    fi
    if ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1; then apt-get update -q; fi
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

write_conf() {
    # this host as slurmd sees it (CPUs, sockets, cores, threads, RealMemory)
    local hw
    hw=$(slurmd -C 2>/dev/null | head -n1 | sed -e 's/^NodeName=[^ ]* *//')
    [ -n "$hw" ] || die "slurmd -C did not describe this host"
    mkdir -p "$CONF_DIR" "$SPOOL/slurmctld" "$SPOOL/slurmd" "$LOG_DIR"
    local new; new=$(mktemp)
    cat > "$new" <<EOF
# written by lunadyn cluster/slurm_local.sh: a single-node SLURM on loopback
ClusterName=lunadyn-local
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$SPOOL/slurmctld
SlurmdSpoolDir=$SPOOL/slurmd
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
MinJobAge=600
InactiveLimit=0
KillWait=5
Waittime=0
SlurmdTimeout=60
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE $hw State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    if [ -f "$CONF" ] && cmp -s "$new" "$CONF"; then
        rm -f "$new"; return 1      # unchanged
    fi
    [ -f "$CONF" ] && cp "$CONF" "$CONF.bak"
    mv "$new" "$CONF"; chmod 644 "$CONF"
    say "wrote $CONF ($NODE: $hw)"
    return 0
}

start_munge() {
    local key=/etc/munge/munge.key
    if [ ! -s "$key" ]; then
        mkdir -p /etc/munge
        if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile="$key" --force
        else dd if=/dev/urandom of="$key" bs=1 count=1024 status=none; fi
    fi
    chown munge:munge /etc/munge "$key"; chmod 700 /etc/munge; chmod 400 "$key"
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge; chmod 755 /run/munge
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && { say "munged started"; return 0; }; sleep 0.2; done
    die "munged does not answer (see /var/log/munge/munged.log)"
}

node_state() { sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -n1 | tr -d '*~#$@^-'; }

start() {
    install_packages
    local changed=0
    write_conf && changed=1
    start_munge
    if [ $changed = 1 ]; then   # a running pair would keep the old configuration
        stop_pidfile $RUN_DIR/slurmd.pid slurmd
        stop_pidfile $RUN_DIR/slurmctld.pid slurmctld
    fi
    if ! alive $RUN_DIR/slurmctld.pid; then /usr/sbin/slurmctld; say "slurmctld started"; fi
    for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
    if ! alive $RUN_DIR/slurmd.pid; then /usr/sbin/slurmd; say "slurmd started"; fi
    local state=""
    for i in $(seq 150); do
        state=$(node_state)
        case "$state" in
            idle|mixed|allocated) say "node $NODE is $state (partition $PARTITION)"; return 0 ;;
            down|drained|draining|drain) [ $((i % 10)) = 1 ] && scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true ;;
        esac
        sleep 0.4
    done
    die "node $NODE is '${state:-unknown}' after 60 s (see $LOG_DIR/slurmctld.log and slurmd.log)"
}

stop() {
    if command -v squeue >/dev/null 2>&1 && alive $RUN_DIR/slurmctld.pid; then
        local jobs; jobs=$(squeue -h -o %A 2>/dev/null || true)
        if [ -n "$jobs" ]; then scancel $jobs 2>/dev/null || true; sleep 2; fi
    fi
    stop_pidfile $RUN_DIR/slurmd.pid slurmd
    stop_pidfile $RUN_DIR/slurmctld.pid slurmctld
    stop_pidfile /run/munge/munged.pid munged
}

case "$ACTION" in
    start) start ;;
    stop) stop ;;
    status)
        for d in slurmctld slurmd; do alive $RUN_DIR/$d.pid && echo "$d: $(cat $RUN_DIR/$d.pid)" || echo "$d: not running"; done
        alive /run/munge/munged.pid && echo "munged: $(cat /run/munge/munged.pid)" || echo "munged: not running"
        sinfo 2>/dev/null || true ;;
    *) die "usage: $0 [start|stop|status]" ;;
esac
