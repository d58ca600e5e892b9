#!/bin/bash
# integ_tasks.sh — tasks through the `rldt` tool: the example plug-in task
# (tests/task_plugin_example.c, built by make as build/tests/task_plugin_example.so) loads and
# runs through `rldt eval`; bad plug-ins and unknown tasks are refused with exit 2 and a reason;
# the random policy's success rate on lift (100 episodes, JSON) is near 0 with its interval;
# `rldt demo` records labelled scripted demonstrations; `rldt run` on the plug-in task carries
# the success rate into eval.csv, the learner log and TensorBoard; the table-top base-policy
# script runs end to end in its TINY mode.
# Prints "integ_tasks: N passed, N failed".
dc_name=integ_tasks
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, dc_bins and dc_finish
dc_bins
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rldt-tasks-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
so=$bin/tests/task_plugin_example.so
check "the example plug-in is built ($so)" test -s "$so"

# jnum FILE KEY: a number from a one-line JSON object
jnum() { sed -nE "s/.*\"$2\":(-?[0-9.e+-]+).*/\1/p" "$1"; }

"$bin/rldt" eval --task-plugin="$so" --env=reach1d --policy=random --episodes=40 --json \
    >"$tmp/plug.json" 2>"$tmp/plug.err"
rc=$?
check "rldt eval runs the plug-in task reach1d (exit $rc)" test "$rc" = 0
check "... on its own episode length (100 steps at most)" \
    awk -v l="$(jnum "$tmp/plug.json" length_mean)" 'BEGIN { exit !(l > 0 && l <= 100) }'
rate=$(jnum "$tmp/plug.json" success_rate)
check "... and random pushes reach its goal sometimes (success_rate ${rate:-?})" \
    awk -v r="${rate:--1}" 'BEGIN { exit !(r > 0 && r < 1) }'
"$bin/rldt" eval --task-plugin="$so" --env=reach1d --policy=zero --episodes=8 --json \
    >"$tmp/zero.json" 2>/dev/null
check "... and standing still never does (success_rate $(jnum "$tmp/zero.json" success_rate))" \
    test "$(jnum "$tmp/zero.json" successes)" = 0
cp "$so" "$tmp/copy.so"
"$bin/rldt" eval --task-plugin="$tmp/copy.so" --env=reach1d --episodes=2 --json >/dev/null \
    2>&1
check "a copy of the plug-in under another path loads too" test $? = 0

"$bin/rldt" eval --task-plugin="$bin/tests/task_plugin_badabi.so" --env=reach1d \
    >/dev/null 2>"$tmp/abi.err"
rc=$?
check "a plug-in built for another ABI is refused (exit $rc: $(head -c 120 "$tmp/abi.err"))" \
    eval 'test "$rc" = 2 && grep -q "ABI" "$tmp/abi.err"'
"$bin/rldt" eval --task-plugin="$tmp/none.so" --env=reach1d >/dev/null 2>"$tmp/none.err"
rc=$?
check "a missing plug-in file is refused (exit $rc)" \
    eval 'test "$rc" = 2 && grep -q "none.so" "$tmp/none.err"'
printf 'not an ELF file\n' >"$tmp/junk.so"
"$bin/rldt" eval --task-plugin="$tmp/junk.so" --env=reach1d >/dev/null 2>"$tmp/junk.err"
rc=$?
check "a file that is no shared object is refused (exit $rc)" test "$rc" = 2
"$bin/rldt" eval --env=reach1d >/dev/null 2>"$tmp/unk.err"
rc=$?
check "without the plug-in, reach1d is an unknown task listing the known ones (exit $rc)" \
    eval 'test "$rc" = 2 && grep -q "lift" "$tmp/unk.err"'

"$bin/rldt" eval --env=lift --policy=random --episodes=100 --json >"$tmp/lift.json" 2>&1
rc=$?
rate=$(jnum "$tmp/lift.json" success_rate)
check "rldt eval --env=lift --policy=random --episodes=100 --json (exit $rc)" test "$rc" = 0
check "... prints success_rate near 0 (${rate:-?}) with a 95% interval" \
    eval 'awk -v r="${rate:-1}" "BEGIN { exit !(r < 0.05) }" &&
        grep -q "\"success_ci95\":\[0\.0*,0\.0[0-9]*\]" "$tmp/lift.json"'
check "... over 200-step episodes" \
    awk -v l="$(jnum "$tmp/lift.json" length_mean)" 'BEGIN { exit !(l == 200) }'
check "... and classifies each episode by demonstrated strategy (counts + none = 100)" \
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(not (len(d["strategy_counts"]) == 3 and sum(d["strategy_counts"]) + d["strategy_none"] == 100))' "$tmp/lift.json"

# scripted demonstrations: noise-free stack demos succeed and use every strategy; the file
# verifies and carries the labels
"$bin/rldt" demo --env=stack --episodes=12 --demo-noise=0 --num-envs=4 --out="$tmp/s.dset" \
    >"$tmp/demo.out" 2>&1
rc=$?
check "rldt demo --env=stack --episodes=12 records a dataset (exit $rc)" test "$rc" = 0
"$bin/rldt" dataset-info --json "$tmp/s.dset" >"$tmp/s.json" 2>&1
check "... that verifies (rldt dataset-info)" test $? = 0
succ=$(jnum "$tmp/s.json" successes)
check "... with 12 labelled episodes, >= 11 successful (${succ:-?})" \
    eval 'test "$(jnum "$tmp/s.json" labelled)" = 12 && test "${succ:-0}" -ge 11'
strat=$(sed -nE 's/.*"strategy":\[([0-9]+),([0-9]+),([0-9]+),.*/\1 \2 \3/p' "$tmp/s.json")
check "... using each of the 3 strategies (${strat:-?})" \
    eval '[ -n "$strat" ] && ! echo " $strat " | grep -q " 0 "'
"$bin/rldt" demo --env=stack --episodes=2 --out="$tmp/s.dset" >/dev/null 2>"$tmp/again.err"
rc=$?
check "... and keeps an existing file unless --force (exit $rc)" \
    eval 'test "$rc" = 2 && grep -q -- "--force" "$tmp/again.err" &&
        "$bin/rldt" dataset-info "$tmp/s.dset" | grep -q "episodes 12"'
"$bin/rldt" demo --env=hopper --episodes=2 --out="$tmp/h.dset" >/dev/null 2>"$tmp/h.err"
rc=$?
check "rldt demo refuses a task without a demonstrator (exit $rc)" \
    eval 'test "$rc" = 2 && ! test -e "$tmp/h.dset"'

# a whole run on the plug-in task: learner and actors load it from the run's config; the
# evaluations' success rate reaches eval.csv and the TensorBoard event file
p=$(free_ports 4)
run=$tmp/run
timeout "$(stretch 120)" "$bin/rldt" run --algo=sac --task-plugin="$so" --env=reach1d --actors=1 \
    --num-envs=2 --sac-hidden=32 --warmup-steps=500 --min-replay=500 --segment-len=32 \
    --eval-every=2000 --eval-episodes=10 --checkpoint-secs=2 --metrics-secs=1 --seed=3 \
    --eval-stochastic=true --control-port="$p" --data-port=$((p + 1)) --params-port=$((p + 2)) \
    --stats=127.0.0.1:$((p + 3)) --max-env-steps=20000 --run-dir="$run" >"$tmp/run.out" 2>&1
rc=$?
check "rldt run on the plug-in task ends with status 0 (got $rc)" test "$rc" = 0
check "its final evaluation is stochastic, as the run's evaluator is (eval_stochastic)" \
    grep -q "evaluating the final policy (10 episodes, stochastic)" "$tmp/run.out"
check "eval.csv has a success_rate column" \
    eval 'head -n 1 "$run/eval.csv" | grep -q ",success_rate$"'
rows=$(awk -F, 'NR > 1 && NF == 7 && $7 >= 0 && $7 <= 1' "$run/eval.csv" | wc -l)
check "... filled in every row ($rows rows, the final evaluation included)" \
    eval 'test "$rows" -ge 2 && test "$rows" = "$(($(wc -l <"$run/eval.csv") - 1))"'
check "the learner logs the evaluations' successes" \
    grep -q "success [0-9]* over 10 episodes" "$run/log.txt"
check "the TensorBoard event file carries eval/success_rate" \
    eval 'grep -q eval/success_rate "$run"/events.out.tfevents.*'

# the table-top base-policy pipeline in its TINY mode: demos, BC, stochastic eval, shipped;
# a rerun does nothing
export WORK=$tmp/base
TINY=1 RLDT=$bin/rldt "$RLDT_ROOT/deploy/scripts/manip-base-policies.sh" lift >"$tmp/mb1" 2>&1
rc=$?
check "manip-base-policies.sh lift (TINY) ends with status 0 (got $rc)" test "$rc" = 0
check "... records labelled demos, a flow policy, its stochastic eval and ships it" \
    eval 'test -s "$WORK/lift/demos.dset" && test -s "$WORK/lift/flow.loss.csv" &&
        grep -q success_rate "$WORK/lift/flow.json" && test -s "$WORK/policies/lift.rldt"'
TINY=1 RLDT=$bin/rldt "$RLDT_ROOT/deploy/scripts/manip-base-policies.sh" lift >"$tmp/mb2" 2>&1
check "... and a rerun does no stage again" \
    eval '! grep -q "demonstrations\|behaviour cloning\|stochastic evaluation," "$tmp/mb2" &&
        grep -q shipped "$tmp/mb2"'
dc_finish
