#!/bin/sh
# integ_slurm.sh — the Slurm deployment end to end on a real single-node Slurm started here:
# munged (as the munge user, private key and socket), slurmctld and slurmd (proctrack/linuxproc,
# task/none, all state in a temp dir, unique ports), then `sbatch deploy/slurm/rldt.sbatch`
# with a learner and 2 actors (tiny SAC on hopper). Checks the job completed, the learner
# exited 0 after max_env_steps with both actors registered, and left a checkpoint that
# `rldt eval` loads. Stops the daemons by their pid files and removes everything, also on
# failure. Needs root (daemons, munge user): skipped, 0 checks, when not root.
# Prints "integ_slurm: N passed, N failed".
set -u
RLDT_ROOT=${RLDT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) bin=$BUILD ;; *) bin=$RLDT_ROOT/$BUILD ;; esac
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # check NAME COMMAND...: one check, passes when the command succeeds
    name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
finish() {
    echo "integ_slurm: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

if [ "$(id -u)" -ne 0 ]; then
    echo "integ_slurm: skipped: needs root to start munged, slurmctld and slurmd (0 checks run)"
    finish
fi
for p in munged slurmctld slurmd sbatch scontrol squeue scancel sinfo runuser; do
    if ! command -v "$p" >/dev/null 2>&1; then
        bad "$p is installed (packages munge slurmctld slurmd slurm-client: run make deps)"
        finish
    fi
done
for p in rldt rldt-learner rldt-actor; do
    if [ ! -x "$bin/$p" ]; then
        bad "$bin/$p is built (make BUILD=$BUILD all)"
        finish
    fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/rldt-slurm.XXXXXX")
chmod 755 "$T" # the munge user must reach its directory
export SLURM_CONF="$T/slurm.conf"
jobid=""

stop_pidfile() { # TERM the daemon named in a pid file, KILL it after 5 s
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null || return 0
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$pid" 2>/dev/null
    return 0
}
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$jobid" ] && [ -n "$(squeue -h -j "$jobid" 2>/dev/null)" ]; then
        pids=$(scontrol listpids "$jobid" 2>/dev/null | awk 'NR > 1 { print $1 }')
        scancel "$jobid" 2>/dev/null
        i=0
        while [ -n "$(squeue -h -j "$jobid" 2>/dev/null)" ] && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
    fi
    stop_pidfile "$T/slurmd.pid"
    stop_pidfile "$T/slurmctld.pid"
    stop_pidfile "$T/munge/munged.pid"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'bad "interrupted"; cleanup; finish' INT TERM

show_logs() {
    for f in "$T"/slurmctld.log "$T"/slurmd.log "$T"/munge/munged.log "$T"/job-*.out \
        "$T"/run/log.txt; do
        [ -f "$f" ] || continue
        echo "--- $f"
        tail -n 20 "$f"
    done
}
fail_out() { # a fatal failure: show logs, clean up, summary
    bad "$1"
    show_logs
    cleanup
    finish
}

# ---- ports: 6 free ones in 12000-19999 (other tests use 20000+; parallel runs differ) -----
port_busy() { # any socket on this local port (IPv4 or IPv6)?
    grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
seed=$(($$ * 7919 + $(date +%s)))
for try in 1 2 3 4 5 6 7 8 9 10; do
    base=$(((seed + try * 104729) % 1300 * 6 + 12000))
    busy=0
    for p in 0 1 2 3 4 5; do port_busy $((base + p)) && busy=1; done
    [ $busy -eq 0 ] && break
done
ctld_port=$base
slurmd_port=$((base + 1))
learner_port=$((base + 2)) # RLDT_PORT_BASE: control, data, params, stats from here

# ---- munge: private key and socket, run as the munge user ----------------------------------
mkdir -p "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 2>/dev/null
chown -R munge:munge "$T/munge"
chmod 755 "$T/munge" # munged: socket directory searchable by all, writable by munge only
chmod 400 "$T/munge/munge.key"
if ! runuser -u munge -- munged --socket="$T/munge/munge.sock" --key-file="$T/munge/munge.key" \
    --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" \
    --seed-file="$T/munge/munged.seed"; then
    fail_out "munged starts"
fi
ok "munged starts"

# ---- slurm: one node named localhost, everything in $T -------------------------------------
mkdir -p "$T/state" "$T/spool"
cat >"$SLURM_CONF" <<EOF
ClusterName=rldttest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=10 State=UP
EOF
slurmctld -f "$SLURM_CONF" || fail_out "slurmctld starts"
slurmd -f "$SLURM_CONF" -N localhost || fail_out "slurmd starts"
i=0
while [ $i -lt 150 ]; do
    state=$(sinfo -h -n localhost -o %t 2>/dev/null)
    case $state in idle*) break ;; esac
    sleep 0.1
    i=$((i + 1))
done
case $state in idle*) ok "slurm node idle after $((i / 10)).$((i % 10)) s" ;;
*) fail_out "slurm node becomes idle (state '$state')" ;;
esac

# ---- the job: learner + 2 actors, tiny SAC ---------------------------------------------------
jobid=$(cd "$T" && sbatch --parsable --overcommit --ntasks=3 --time=3 \
    --output="$T/job-%j.out" \
    --export="ALL,RLDT_ROOT=$RLDT_ROOT,RLDT_BIN=$bin,RLDT_GRACE=2,RLDT_PORT_BASE=$learner_port" \
    "$RLDT_ROOT/deploy/slurm/rldt.sbatch" \
    --algo=sac --env=hopper --sac-hidden=32 --max-env-steps=3000 --min-replay=500 \
    --warmup-steps=500 --batch-size=64 --num-envs=2 --segment-len=16 --publish-every=20 \
    --heartbeat-secs=0.2 --log-level=info --run-dir="$T/run" --bind-host=127.0.0.1)
case $jobid in
'' | *[!0-9]*) fail_out "sbatch accepts the job (got '$jobid')" ;;
esac
ok "sbatch accepts job $jobid"

start=$(date +%s)
while [ -n "$(squeue -h -j "$jobid" 2>/dev/null)" ] && [ $(($(date +%s) - start)) -lt 90 ]; do
    sleep 0.5
done
if [ -n "$(squeue -h -j "$jobid" 2>/dev/null)" ]; then
    fail_out "job $jobid finishes within 90 s"
fi
ok "job $jobid finished in $(($(date +%s) - start)) s"

out="$T/job-$jobid.out"
info=$(scontrol show job "$jobid" 2>/dev/null)
check "job state COMPLETED, exit 0:0" \
    sh -c 'echo "$1" | grep -q "JobState=COMPLETED" && echo "$1" | grep -q " ExitCode=0:0"' \
    - "$info"
check "learner ran on the first node and exited 0" \
    sh -c 'grep -q "learner on localhost" "$1" && grep -q "learner exited with status 0" "$1"' \
    - "$out"
check "learner used the job's ports ($learner_port..)" grep -q \
    "sockets 127.0.0.1:$learner_port/$((learner_port + 1))/$((learner_port + 2))" "$T/run/log.txt"
check "learner reached max_env_steps" grep -q "reached max_env_steps=3000" "$T/run/log.txt"
check "both actors registered" \
    sh -c '[ "$(grep -c "registered: slurm$2-[12]," "$1")" -eq 2 ]' - "$T/run/log.txt" "$jobid"
ckpt=$(ls -1 "$T"/run/checkpoints/ckpt-*.rldt 2>/dev/null | tail -n 1)
check "a checkpoint was written" test -n "$ckpt"
if [ -n "$ckpt" ]; then
    check "rldt eval loads the checkpoint" \
        "$bin/rldt" eval --env=hopper --policy="$ckpt" --episodes=1 --deterministic --json \
            >/dev/null
fi
# ---- a learner that cannot start: the actors must not keep the job alive ------------------
job2=$(cd "$T" && sbatch --parsable --overcommit --ntasks=3 --time=3 \
    --output="$T/job-%j.out" \
    --export="ALL,RLDT_ROOT=$RLDT_ROOT,RLDT_BIN=$bin,RLDT_GRACE=1,RLDT_PORT_BASE=$learner_port" \
    "$RLDT_ROOT/deploy/slurm/rldt.sbatch" --env=hopper --run-dir=/proc/rldt-no-such-dir \
    --bind-host=127.0.0.1)
start=$(date +%s)
while [ -n "$(squeue -h -j "$job2" 2>/dev/null)" ] && [ $(($(date +%s) - start)) -lt 30 ]; do
    sleep 0.2
done
if [ -n "$(squeue -h -j "$job2" 2>/dev/null)" ]; then
    jobid=$job2 # cleanup cancels it
    bad "a job whose learner fails ends within 30 s"
else
    check "a job whose learner fails ends ($(($(date +%s) - start)) s) as FAILED with its status" \
        sh -c 'scontrol show job "$1" | grep -q "JobState=FAILED" &&
            grep -q "learner exited with status 1" "$2"' - "$job2" "$T/job-$job2.out"
fi

echo "--- job output ($out)"
sed 's/^/    /' "$out"
[ "$failed" -eq 0 ] || show_logs
daemons="$(cat "$T/munge/munged.pid" "$T/slurmctld.pid" "$T/slurmd.pid" 2>/dev/null)"
cleanup
alive=""
for pid in $daemons; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
check "daemons stopped ($(echo "$daemons" | wc -w) pids), temp dir removed" \
    sh -c '[ -z "$1" ] && [ ! -e "$2" ]' - "$alive" "$T"
finish
