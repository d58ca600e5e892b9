#!/usr/bin/env bash
# base-policies.sh — make the shipped base policies (deploy/policies/<task>.rldt) end to end:
#   1. SAC (rldt run --algo=sac), its checkpoints evaluated as they appear (rldt eval, see
#      SELECT_<task>); the first one whose mean return lies in the task's D4RL-medium band
#      is kept as medium.rldt and a SAC run this script started is stopped there;
#   2. rldt collect: COLLECT_STEPS env steps of that policy, stochastic (medium.dset);
#   3. rldt pretrain: conditional flow matching on it (flow.rldt, EMA weights, loss curve);
#   4. rldt eval --deterministic of the flow policy; inside the band it is copied to
#      $OUT/<task>.rldt with a <task>.json of its evaluation.
# Every stage writes its output atomically and is skipped when the output exists, so the
# script resumes across sessions: rerun the same command. A SAC run it started is resumed
# (rldt run --resume) if it is not running any more.
#
# usage: deploy/scripts/base-policies.sh [TASK ...]      (default: hopper walker2d halfcheetah)
# environment (defaults in brackets):
#   RLDT [build/rldt]  WORK [runs/base]  OUT [deploy/policies]
#   SAC_RUN_<task>     an existing SAC run directory to watch instead of starting one
#                      (e.g. SAC_RUN_hopper=runs/sac-hopper-1m); it is never stopped by us
#   SAC_STEPS [1000000] SAC_CKPT_SECS [60] SAC_ARGS [] extra flags for rldt run
#   PORT_BASE [5600] the SAC runs' sockets: PORT_BASE + 10*i .. +3 for the i-th task of
#                    hopper walker2d halfcheetah (away from the defaults a run may be using)
#   COLLECT_STEPS [1000000] PRETRAIN_STEPS [40000] PRETRAIN_ARGS [] EVAL_EPISODES [10]
#   FINAL_EPISODES [20] POLL_SECS [30] STALE_SECS [1200] (a watched run with no new
#   checkpoint for this long counts as finished)
#   BAND_<task>="lo hi" overrides the medium band; SELECT_<task>=stochastic|deterministic:
#   judge SAC checkpoints by the return of their sampling policy (what collect records) or of
#   their mean action (default: stochastic for walker2d, whose in-band SAC policies fall often
#   when they sample; deterministic for the others); TINY=1 is a smoke test: tiny budgets, any
#   return accepted, output under $WORK/policies.
set -u

RLDT=${RLDT:-build/rldt}
WORK=${WORK:-runs/base}
OUT=${OUT:-deploy/policies}
SAC_STEPS=${SAC_STEPS:-1000000}
SAC_CKPT_SECS=${SAC_CKPT_SECS:-60}
SAC_ARGS=${SAC_ARGS:-}
PORT_BASE=${PORT_BASE:-5600}
COLLECT_STEPS=${COLLECT_STEPS:-1000000}
PRETRAIN_STEPS=${PRETRAIN_STEPS:-40000}
PRETRAIN_ARGS=${PRETRAIN_ARGS:-}
EVAL_EPISODES=${EVAL_EPISODES:-10}
FINAL_EPISODES=${FINAL_EPISODES:-20}
POLL_SECS=${POLL_SECS:-30}
STALE_SECS=${STALE_SECS:-1200}
SELECT_walker2d=${SELECT_walker2d:-stochastic}
TINY=${TINY:-0}
if [ "$TINY" = 1 ]; then
    SAC_STEPS=3000 SAC_CKPT_SECS=2 COLLECT_STEPS=4000 PRETRAIN_STEPS=100 EVAL_EPISODES=2
    FINAL_EPISODES=2 POLL_SECS=1 STALE_SECS=30 OUT=$WORK/policies
    SAC_ARGS="--warmup-steps=500 --min-replay=500 --sac-hidden=32 --num-envs=2 --eval-every=0 $SAC_ARGS"
    PRETRAIN_ARGS="--flow-hidden=32 $PRETRAIN_ARGS"
fi

log() { printf '%s base-policies: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

band() {
    local v="BAND_$1"
    if [ -n "${!v:-}" ]; then echo "${!v}"; return; fi
    if [ "$TINY" = 1 ]; then echo "-1e9 1e9"; return; fi
    case $1 in
        hopper) echo "1200 1700" ;;
        walker2d) echo "2500 3300" ;;
        halfcheetah) echo "3800 4900" ;;
        *) die "no medium band for task $1" ;;
    esac
}

# mean return of a policy file: eval_return FILE TASK EPISODES [JSON_OUT [MODE]]
# (MODE stochastic: the policy samples, as when it collects; default deterministic)
eval_return() {
    local json det=--deterministic
    [ "${5:-}" = stochastic ] && det=""
    # shellcheck disable=SC2086
    json=$("$RLDT" eval --env="$2" --policy="$1" --episodes="$3" --num-envs=8 $det \
        --json) || return 1
    [ -n "${4:-}" ] && printf '%s\n' "$json" >"$4"
    printf '%s\n' "$json" | sed -E 's/.*"return_mean":([-0-9.eE+]+).*/\1/'
}

# how SAC checkpoints are judged against the band: SELECT_<task>=stochastic judges the return
# of the sampling policy (the return of the data it will collect) instead of its mean action
select_mode() {
    local v="SELECT_$1"
    echo "${!v:-deterministic}"
}

in_band() { awk -v r="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(r >= lo && r <= hi) }'; }

# distance of r from the band (0 inside)
band_dist() {
    awk -v r="$1" -v lo="$2" -v hi="$3" 'BEGIN { print (r < lo ? lo - r : r > hi ? r - hi : 0) }'
}

# atomic copy
put() { cp "$1" "$2.tmp.$$" && mv "$2.tmp.$$" "$2"; }

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# ports for runs this script starts, away from the defaults (a run may already use those)
ports() {
    local i=0 t
    for t in hopper walker2d halfcheetah; do
        [ "$t" = "$1" ] && break
        i=$((i + 1))
    done
    local p=$((PORT_BASE + 10 * i))
    echo "--control-port=$p --data-port=$((p + 1)) --params-port=$((p + 2)) --stats=127.0.0.1:$((p + 3))"
}

start_sac() { # start_sac TASK DIR
    local resume=""
    [ -d "$2/checkpoints" ] && [ -n "$(ls "$2"/checkpoints/ckpt-*.rldt 2>/dev/null)" ] &&
        resume=--resume
    log "$1: starting SAC in $2 $resume"
    # shellcheck disable=SC2046,SC2086
    nohup "$RLDT" run --algo=sac --env="$1" --max-env-steps="$SAC_STEPS" --run-dir="$2" \
        --checkpoint-secs="$SAC_CKPT_SECS" $(ports "$1") $resume $SAC_ARGS \
        >>"$WORK/$1/sac.out" 2>&1 &
    echo $! >"$WORK/$1/sac.pid"
}

# stage 1: a SAC checkpoint in the band -> $WORK/TASK/medium.rldt
stage_medium() {
    local task=$1 dir=$WORK/$1 run pid="" own=0 lo hi
    read -r lo hi <<<"$(band "$task")"
    local v="SAC_RUN_$task"
    run=${!v:-}
    if [ -z "$run" ]; then
        run=$dir/sac
        own=1
        [ -f "$dir/sac.pid" ] && pid=$(cat "$dir/sac.pid")
        if ! alive "$pid"; then
            start_sac "$task" "$run"
            pid=$(cat "$dir/sac.pid")
        fi
    fi
    [ -d "$run" ] || [ "$own" = 1 ] || die "$task: SAC run directory $run does not exist"
    log "$task: watching $run/checkpoints for a $(select_mode "$task") return in [$lo, $hi]"
    touch "$dir/evals.csv"
    local last_new restarts=0
    last_new=$(date +%s)
    while :; do
        local f
        for f in "$run"/checkpoints/ckpt-*.rldt; do
            [ -e "$f" ] || continue
            local name r
            name=$(basename "$f")
            grep -q "^$name," "$dir/evals.csv" && continue
            # checkpoints rotate: evaluate a private copy
            cp "$f" "$dir/candidate.rldt" 2>/dev/null || continue
            last_new=$(date +%s)
            r=$(eval_return "$dir/candidate.rldt" "$task" "$EVAL_EPISODES" "" "$(select_mode "$task")") ||
                continue
            echo "$name,$r" >>"$dir/evals.csv"
            log "$task: $name $(select_mode "$task") return $r"
            if in_band "$r" "$lo" "$hi"; then
                put "$dir/candidate.rldt" "$dir/medium.rldt"
                echo "$name,$r" >"$dir/medium.txt"
                [ "$own" = 1 ] && alive "$pid" && { log "$task: stopping SAC ($pid)"; kill -TERM "$pid"; }
                return 0
            fi
            # remember the closest so far, in case no checkpoint ever lands in the band
            local d best=1e300
            d=$(band_dist "$r" "$lo" "$hi")
            [ -f "$dir/closest.txt" ] && best=$(cut -d, -f3 "$dir/closest.txt")
            if awk -v a="$d" -v b="$best" 'BEGIN { exit !(a < b) }'; then
                put "$dir/candidate.rldt" "$dir/closest.rldt"
                echo "$name,$r,$d" >"$dir/closest.txt"
            fi
        done
        local done_run=0
        if [ "$own" = 1 ] && ! alive "$pid"; then
            # finished its budget, or stopped early (e.g. the session ended): then resume it
            local steps
            steps=$(tail -n 1 "$run/metrics.csv" 2>/dev/null | cut -d, -f2)
            if [ "${steps%.*}" -ge "$SAC_STEPS" ] 2>/dev/null || [ "$restarts" -ge 3 ]; then
                done_run=1
            else
                restarts=$((restarts + 1))
                start_sac "$task" "$run"
                pid=$(cat "$dir/sac.pid")
            fi
        elif [ "$own" = 0 ] && [ "$(($(date +%s) - last_new))" -ge "$STALE_SECS" ]; then
            done_run=1
        fi
        if [ $done_run = 1 ]; then
            [ -f "$dir/closest.rldt" ] || die "$task: SAC run ended without a usable checkpoint"
            log "$task: SAC run ended with no checkpoint in the band; using the closest: $(cat "$dir/closest.txt")"
            put "$dir/closest.rldt" "$dir/medium.rldt"
            cut -d, -f1,2 "$dir/closest.txt" >"$dir/medium.txt"
            return 0
        fi
        sleep "$POLL_SECS"
    done
}

one_task() {
    local task=$1 dir=$WORK/$1 lo hi r
    read -r lo hi <<<"$(band "$task")"
    mkdir -p "$dir" "$OUT" || die "cannot create $dir or $OUT"
    if [ -f "$OUT/$task.rldt" ] && [ "$TINY" != 1 ] && [ -f "$dir/flow.rldt" ]; then
        log "$task: $OUT/$task.rldt exists, nothing to do"
        return 0
    fi
    [ -f "$dir/medium.rldt" ] || stage_medium "$task" || return 1
    log "$task: medium policy $(cat "$dir/medium.txt" 2>/dev/null)"
    if [ ! -f "$dir/medium.dset" ]; then
        log "$task: collecting $COLLECT_STEPS steps"
        "$RLDT" collect --policy="$dir/medium.rldt" --env="$task" --steps="$COLLECT_STEPS" \
            --num-envs=8 --out="$dir/medium.dset" || die "$task: collect failed"
    fi
    "$RLDT" dataset-info "$dir/medium.dset" | sed -n '1,7p' >&2
    if [ ! -f "$dir/flow.rldt" ]; then
        log "$task: pre-training ($PRETRAIN_STEPS steps)"
        # shellcheck disable=SC2086
        "$RLDT" pretrain --dataset="$dir/medium.dset" --out="$dir/flow.rldt" \
            --pretrain-steps="$PRETRAIN_STEPS" --resume --checkpoint-secs=120 $PRETRAIN_ARGS ||
            die "$task: pretrain failed (rerun to resume)"
    fi
    r=$(eval_return "$dir/flow.rldt" "$task" "$FINAL_EPISODES" "$dir/flow-eval.json") ||
        die "$task: eval of the flow policy failed"
    log "$task: flow policy deterministic return $r over $FINAL_EPISODES episodes (band $lo..$hi)"
    if ! in_band "$r" "$lo" "$hi"; then
        log "$task: outside the band: not shipped (see $dir; delete flow.rldt to retrain)"
        return 1
    fi
    put "$dir/flow.rldt" "$OUT/$task.rldt"
    put "$dir/flow-eval.json" "$OUT/$task.json"
    log "$task: shipped $OUT/$task.rldt"
}

[ -x "$RLDT" ] || die "$RLDT not built (make all)"
tasks=${*:-hopper walker2d halfcheetah}
rc=0
for t in $tasks; do
    one_task "$t" || rc=1
done
exit $rc
