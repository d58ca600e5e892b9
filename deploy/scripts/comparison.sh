#!/usr/bin/env bash
# comparison.sh — the locomotion comparison of the results log, end to end and resumable:
#   stage 1: RLDT and ReinFlow on hopper, walker2d and halfcheetah, plus RLDT-Delta on hopper,
#            3 seeds each, 10^6 env steps (one `rldt sweep` per task and algorithm, each with its
#            shipped config: rldt-cpu.ini, reinflow-<task>.ini);
#   stage 2: the RLDT runs continued by resume to 3 x 10^6 env steps (`rldt sweep DIR
#            --max-env-steps=...`);
#   then `rldt report` of every sweep into $OUT (report.md, one PNG per task, data/ with each
#   run's eval.csv and configuration, from which `rldt report $OUT/data` redoes the tables).
# Every sweep skips finished runs and resumes unfinished ones from their checkpoints, so after
# an interruption (Ctrl-C, a lost session) the same command carries on. About 2 h of a 2-core
# machine for stage 1 and 3 h more for stage 2.
#
# usage: deploy/scripts/comparison.sh [1|2|report]   (default: 1, 2, then report)
# environment (defaults in brackets): RLDT [build/rldt]  WORK [runs/comparison]
#   OUT [deploy/results/comparison]  SEEDS [1,2,3]  STEPS1 [1000000]  STEPS2 [3000000]
#   EVAL ["--eval-episodes=10 --eval-every=50000"]  REACH [3000]: report the runs reaching it
#   ONLY [all]: a space-separated subset of the sweeps below, e.g. ONLY="rldt-hopper"
#   EXTRA []: more `rldt run` flags for every stage-1 run (a smoke test's tiny budgets)
set -u

RLDT=${RLDT:-build/rldt}
WORK=${WORK:-runs/comparison}
OUT=${OUT:-deploy/results/comparison}
SEEDS=${SEEDS:-1,2,3}
STEPS1=${STEPS1:-1000000}
STEPS2=${STEPS2:-3000000}
EVAL=${EVAL:---eval-episodes=10 --eval-every=50000}
REACH=${REACH:-3000}
ONLY=${ONLY:-}
EXTRA=${EXTRA:-}

# sweep name = algorithm-task; its config
SWEEPS="rldt-hopper rldt-walker2d rldt-halfcheetah reinflow-hopper reinflow-walker2d
reinflow-halfcheetah rldt-delta-hopper"

log() { printf '%s comparison: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ -x "$RLDT" ] || die "$RLDT not found: run make first (or set RLDT)"

selected() {
    [ -z "$ONLY" ] && return 0
    case " $ONLY " in *" $1 "*) return 0 ;; esac
    return 1
}

config_of() { # sweep name -> config file
    case $1 in
    reinflow-*) echo "deploy/configs/reinflow-${1#reinflow-}.ini" ;;
    *) echo deploy/configs/rldt-cpu.ini ;;
    esac
}

stage1() {
    local s algo task
    for s in $SWEEPS; do
        selected "$s" || continue
        task=${s##*-}
        algo=${s%-"$task"}
        log "stage 1: $algo on $task, seeds $SEEDS, $STEPS1 env steps"
        # shellcheck disable=SC2086 # EVAL and EXTRA hold several flags
        "$RLDT" sweep --out="$WORK/$s" --algos="$algo" --tasks="$task" --seeds="$SEEDS" \
            --config="$(config_of "$s")" --max-env-steps="$STEPS1" $EVAL $EXTRA ||
            die "sweep $WORK/$s failed (rerun to resume it)"
    done
}

stage2() {
    local s
    for s in rldt-hopper rldt-walker2d rldt-halfcheetah; do
        selected "$s" || continue
        [ -d "$WORK/$s" ] || die "$WORK/$s is missing: run stage 1 first"
        log "stage 2: $s continued to $STEPS2 env steps"
        "$RLDT" sweep "$WORK/$s" --max-env-steps="$STEPS2" ||
            die "sweep $WORK/$s failed (rerun to resume it)"
    done
}

report() {
    local dirs=() s
    for s in $SWEEPS; do
        selected "$s" && [ -d "$WORK/$s" ] && dirs+=("$WORK/$s")
    done
    [ ${#dirs[@]} -gt 0 ] || die "no sweep under $WORK yet"
    log "report of ${#dirs[@]} sweeps into $OUT"
    "$RLDT" report "${dirs[@]}" --out="$OUT" --keep-data --reach="$REACH" || die "report failed"
}

case ${1:-all} in
1) stage1 ;;
2) stage2 ;;
report) report ;;
all) stage1 && stage2 && report ;;
*) die "unknown stage '$1' (1, 2, report)" ;;
esac
