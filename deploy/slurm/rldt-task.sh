#!/bin/sh
# rldt-task.sh — run by srun once per task of an rldt job (see rldt.sbatch): task 0 runs
# rldt-learner, binding all interfaces; every other task runs rldt-actor connected to
# $RLDT_LEARNER_HOST. Defaults come first so the job's arguments override them; the actor's
# learner host and name come last. When the learner ends, task 0 gives the actors RLDT_GRACE
# seconds to leave on the learner's stop message, then signals the step's remaining tasks
# (actors that never connected would otherwise wait for a learner forever), and exits with
# the learner's status, which becomes the job's.
set -u
: "${SLURM_PROCID:?rldt-task.sh: run me through srun (rldt.sbatch)}"
: "${RLDT_LEARNER_HOST:?rldt-task.sh: RLDT_LEARNER_HOST is not set (rldt.sbatch sets it)}"
bin=${RLDT_BIN:-${RLDT_ROOT:-$SLURM_SUBMIT_DIR}/build}
run_dir=${RLDT_RUN_DIR:-$SLURM_SUBMIT_DIR/runs/slurm-$SLURM_JOB_ID}
# this job's ports (rldt.sbatch), before the job's arguments so that those win
b=${RLDT_PORT_BASE:-0}
if [ "$b" -gt 0 ]; then
    set -- --control-port=$b --data-port=$((b + 1)) --params-port=$((b + 2)) \
        --stats=127.0.0.1:$((b + 3)) "$@"
fi

if [ "$SLURM_PROCID" -ne 0 ]; then
    exec "$bin/rldt-actor" "$@" --learner-host="$RLDT_LEARNER_HOST" \
        --actor-name="slurm$SLURM_JOB_ID-$SLURM_PROCID"
fi

# task 0: the learner. Forward SIGTERM/SIGINT (scancel, time limit) so it writes a final
# checkpoint; --resume continues a requeued job from its newest checkpoint.
"$bin/rldt-learner" --bind-host='*' --run-dir="$run_dir" --resume "$@" &
learner=$!
trap 'kill -TERM "$learner" 2>/dev/null' TERM INT
wait "$learner"
rc=$?
while kill -0 "$learner" 2>/dev/null; do   # the wait was cut short by a signal: wait again
    wait "$learner"
    rc=$?
done
trap '' TERM INT
echo "rldt-task.sh: learner exited with status $rc"
if [ "${SLURM_STEP_NUM_TASKS:-1}" -gt 1 ]; then
    sleep "${RLDT_GRACE:-5}"
    scancel --signal=TERM "$SLURM_JOB_ID.$SLURM_STEP_ID" 2>/dev/null || true
fi
exit "$rc"
