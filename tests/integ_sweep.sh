#!/bin/bash
# integ_sweep.sh — `rldt sweep` and `rldt report` as a user drives them, on loopback with tiny
# budgets: a 2 algorithms (rldt, reinflow) x 2 seeds sweep, 2 at a time, interrupted (SIGINT) once
# a run has checkpointed; continued with `rldt sweep DIR` (finished runs skipped, interrupted
# ones resumed from their checkpoint, a run whose learner is killed relaunched, every run
# finished, no process left); the rldt runs
# continued to a larger budget (`rldt sweep DIR --algos=rldt --max-env-steps=N`); then report.md (a
# row per algorithm, the final mean recomputed from the runs' eval.csv) and the task's PNG; a
# report with --keep-data redone from its own copy of the data.
# --reach on known numbers; deploy/scripts/comparison.sh on two tiny sweeps. Bad input: an unknown key, a key the sweep owns, an empty directory
# for the report, a bad --reach.
# Prints "integ_sweep: N passed, N failed".
# test-timeout: 300
dc_name=integ_sweep
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, free_ports, dc_bins and dc_finish
sweeper=""
dc_stop() { [ -n "$sweeper" ] && kill -9 "$sweeper" 2>/dev/null; }
dc_tmp # RLDT_ROOT, bin, tmp, removed on exit (KEEP=1: leave the sweep for inspection)
cd "$RLDT_ROOT" || exit 1 # the default base policy: deploy/policies/<task>.rldt

sw=$tmp/sw
tiny="--actors=1 --num-envs=2 --max-episode-steps=100 --segment-len=32 --eval-every=1000
      --eval-episodes=1 --checkpoint-secs=1 --metrics-secs=1 --min-replay=500 --replay-size=20000
      --warmup-steps=500 --sac-hidden=32 --batch-size=32 --updates-per-step=0.5
      --rldt-actor-batch=8 --rldt-actor-start=8 --rldt-critic-hidden=32 --rldt-critic-round=4
      --reinflow-batch=256 --reinflow-minibatch=128 --reinflow-epochs=2
      --reinflow-critic-hidden=32 --max-env-steps=4000"
grid="--algos=rldt,reinflow --tasks=hopper --seeds=1,2 --parallel=2"

# ---- bad input ----
# shellcheck disable=SC2086
"$bin/rldt" sweep --out="$sw" $grid --no-such-key=1 >"$tmp/bad1" 2>&1
check "an unknown run option is refused (status 2)" test $? = 2
"$bin/rldt" sweep --out="$sw" $grid --run-dir=x >"$tmp/bad2" 2>&1
check "a key the sweep sets itself is refused (status 2)" test $? = 2
check "... saying so" grep -q "set by the sweep" "$tmp/bad2"
"$bin/rldt" sweep --out="$sw" --tasks=../escape >"$tmp/bad3" 2>&1
check "a task that is not a directory name is refused (status 2)" test $? = 2
check "... and nothing is created" test ! -e "$sw"
printf '[run]\nmax_env_steps = 5000\n' >"$tmp/c-hopper.ini"
"$bin/rldt" sweep --out="$sw" --tasks=hopper --config="$tmp/c-{env}.ini" --dry-run >"$tmp/env1" 2>&1
check "--config=FILE-{env}.ini is checked per task (status $?)" \
    grep -q -- "--config=$tmp/c-hopper.ini" "$tmp/env1"
"$bin/rldt" sweep --out="$sw" --tasks=hopper,walker2d --config="$tmp/c-{env}.ini" --dry-run \
    >"$tmp/env2" 2>&1
check "... and refused (status 2) where a task has none ($?)" \
    eval 'grep -q "c-walker2d.ini.*(task walker2d)" "$tmp/env2"'
# shellcheck disable=SC2086
"$bin/rldt" sweep --out="$sw" $grid $tiny --dry-run >"$tmp/dry" 2>&1
check "--dry-run lists the 4 runs to start" test "$(grep -c ': start run ' "$tmp/dry")" = 4

# ---- start, then interrupt once a run has checkpointed ----
# shellcheck disable=SC2086
"$bin/rldt" sweep --out="$sw" $grid $tiny >"$tmp/out1" 2>&1 &
sweeper=$!
for _ in $(seq 1 300); do
    ls "$sw"/hopper/*/s*/checkpoints/ckpt-* >/dev/null 2>&1 && break
    kill -0 "$sweeper" 2>/dev/null || break
    sleep 0.2
done
kill -INT "$sweeper" 2>/dev/null
wait "$sweeper"
rc=$?
sweeper=""
check "the interrupted sweep exits with status 130 (got $rc)" test "$rc" = 130
check "... and says how to continue" grep -q "rldt sweep $sw" "$tmp/out1"
check "... leaving no process of the sweep" eval '! pgrep -f "$sw/" >/dev/null'
check "one progress line format" grep -Eq 'sweep: [0-9]+/4 done, [0-9]+ running, [0-9]+ failed' \
    "$tmp/out1"
unfinished=0
for d in "$sw"/hopper/*/s*/; do
    [ -e "$d/sweep.done" ] || unfinished=$((unfinished + 1))
done
check "runs are left unfinished ($unfinished)" test "$unfinished" -gt 0
first_done=$(ls "$sw"/hopper/*/s*/sweep.done 2>/dev/null)

# ---- continue with the saved arguments; one learner is killed (-9) on the way ----
"$bin/rldt" sweep "$sw" >"$tmp/out2" 2>&1 &
sweeper=$!
killed=""
for _ in $(seq 1 300); do
    pid=$(pgrep -f "rldt-learner --config=$sw/hopper/" | head -n 1)
    [ -n "$pid" ] && sleep 1 && kill -9 "$pid" 2>/dev/null && killed=$pid && break
    kill -0 "$sweeper" 2>/dev/null || break
    sleep 0.1
done
wait "$sweeper"
rc=$?
sweeper=""
check "the continued sweep finishes (status $rc)$(grep -A4 'FAILED' "$tmp/out2" | tr '\n' ' ')" \
    test "$rc" = 0
check "a learner was killed on the way (pid ${killed:-none})" test -n "$killed"
check "... its run is relaunched (the sweep's default --retries=1)" \
    grep -q "FAILED (exit status 1); relaunching it" "$tmp/out2"
check "... resuming an interrupted run from its checkpoint" grep -q "resumed" "$tmp/out2"
check "... with rldt run --resume" eval 'grep -lq "resuming with" "$sw"/hopper/*/s*.log'
n_before=$(echo "$first_done" | grep -c .)
check "... counting the runs finished before ($n_before)" \
    grep -q "($n_before finished before)" "$tmp/out2"
for f in $first_done; do
    r=$(dirname "$f")
    check "... not starting finished $(basename "$(dirname "$r")")/$(basename "$r") again" \
        eval '! grep -q "$(basename "$(dirname "$r")") $(basename "$r") \(started\|resumed\)" "$tmp/out2"'
done
check "every run is finished" test "$(ls "$sw"/hopper/*/s*/sweep.done | wc -l)" = 4
for d in "$sw"/hopper/*/s*/; do
    d=${d%/}
    steps=$(tail -n 1 "$d/eval.csv" | cut -d, -f2)
    check "$(basename "$(dirname "$d")")/$(basename "$d") evaluated at its budget ($steps)" \
        test "${steps:-0}" -ge 4000
done
check "no process of the sweep is left" eval '! pgrep -f "$sw/" >/dev/null'
"$bin/rldt" sweep "$sw" --dry-run >"$tmp/dry2" 2>&1 # the saved grid, plus --dry-run
check "a third look finds all 4 finished" test "$(grep -c ': finished' "$tmp/dry2")" = 4

# ---- continue the finished rldt runs to a larger budget; reinflow's stay as they are ----
rf_before=$(cat "$sw"/hopper/reinflow/s*/eval.csv | md5sum)
"$bin/rldt" sweep "$sw" --algos=rldt --max-env-steps=6000 >"$tmp/out3" 2>&1
rc=$?
check "rldt sweep DIR --algos=rldt --max-env-steps=6000 ends with status 0 ($rc)" test "$rc" = 0
check "... resuming both rldt runs" test "$(grep -c "hopper rldt s[12] resumed" "$tmp/out3")" = 2
check "... and no reinflow run" eval '! grep -q "reinflow" "$tmp/out3"'
for d in "$sw"/hopper/rldt/s*/; do
    d=${d%/}
    steps=$(tail -n 1 "$d/eval.csv" | cut -d, -f2)
    check "rldt/$(basename "$d") continued to its new budget ($steps >= 6000), marked finished" \
        eval 'test "${steps:-0}" -ge 6000 && test -e "$d/sweep.done"'
done
check "the reinflow runs' results are untouched" \
    test "$(cat "$sw"/hopper/reinflow/s*/eval.csv | md5sum)" = "$rf_before"
"$bin/rldt" sweep "$sw" --dry-run >"$tmp/dry3" 2>&1
check "a look with the saved arguments finds the 2 rldt runs finished" \
    test "$(grep -c ': finished' "$tmp/dry3")" = 2

# ---- resuming a run that has reached its budget: the learner ends at once (whether or not
# its stats socket answered first), the run finishes with a final evaluation; three times ----
r1=$sw/hopper/rldt/s1
for k in 1 2 3; do
    p=$(free_ports 4)
    rows=$(wc -l <"$r1/eval.csv")
    "$bin/rldt" run --run-dir="$r1" --resume --control-port="$p" --data-port=$((p + 1)) \
        --params-port=$((p + 2)) --stats=127.0.0.1:$((p + 3)) >"$tmp/again$k" 2>&1
    rc=$?
    check "rldt run --resume of a run past its budget ends with status 0 ($k: $rc)" test "$rc" = 0
    check "... with its final evaluation (a row added to eval.csv)" \
        test "$(wc -l <"$r1/eval.csv")" -gt "$rows"
done

# ---- report ----
"$bin/rldt" report "$sw" >"$tmp/rep" 2>&1
check "rldt report succeeds" test $? = 0
check "report.md exists" test -s "$sw/report.md"
check "report.md has the hopper table" grep -q "^## hopper" "$sw/report.md"
for a in rldt reinflow; do
    check "report.md has a row for $a with 2 runs" grep -Eq "^\| $a \| 2 \|" "$sw/report.md"
done
check "report.md gives the command that reproduces it" grep -q "rldt sweep --out=$sw" \
    "$sw/report.md"
want=$(for d in "$sw"/hopper/reinflow/s*/; do tail -n 1 "$d/eval.csv" | cut -d, -f4; done |
    awk '{s += $1} END {printf "%.1f", s / NR}')
got=$(grep -E "^\| reinflow \|" "$sw/report.md" | cut -d'|' -f6 | awk '{print $1}')
check "reinflow's final mean ($got) is the mean of its runs' last evaluations ($want)" \
    test "$got" = "$want"
check "report-hopper.png is a PNG" \
    eval '[ "$(head -c 8 "$sw/report-hopper.png" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]'
# ---- report on known numbers ----
# two runs of one variant: start = the version-1 row (at 85 env steps), worst after 10^5 env
# steps / start = min(800/1000, 1500/1250) = 0.80; finals 1200 and 1400, bests 1200 and 1500
k=$tmp/known/hopper/algo
mkdir -p "$k/s1" "$k/s2"
h="wall_s,env_steps,policy_version,return_mean,return_std,length_mean"
printf '%s\n1,85,1,1000,0,1000\n2,150000,9,800,0,1000\n3,300000,20,1200,0,1000\n' "$h" \
    >"$k/s1/eval.csv"
printf '%s\n1,0,1,1250,0,1000\n2,150000,9,1500,0,1000\n3,300000,20,1400,0,1000\n' "$h" \
    >"$k/s2/eval.csv"
"$bin/rldt" report "$tmp/known" >"$tmp/rep3" 2>&1
check "report on known runs succeeds" test $? = 0
row=$(grep -E "^\| algo \|" "$tmp/known/report.md")
check "... start 1125.0, final mean 1300.0, IQM 1300.0, best mean 1350.0, worst/start 0.80 ($row)" \
    eval 'echo "$row" | grep -Eq "^\| algo \| 2 \| 300000 \| 1125\.0 \| 1300\.0 \[1200\.0, 1400\.0\] \| 1300\.0 \| 1350\.0 \[1200\.0, 1500\.0\] \| 1350\.0 \| 0\.80 \|"'
"$bin/rldt" report "$tmp/known" --out="$tmp/reach" --reach=1450 >"$tmp/rep9" 2>&1
rrow=$(grep -E "^\| algo \| 1 of 2" "$tmp/reach/report.md")
check "--reach=1450: s2 first reached it at 150000 env steps (2 s), s1 never ($rrow)" \
    eval 'echo "$rrow" | grep -Fq "| algo | 1 of 2 | 150000 (150000–150000) | 0.0 (0.0–0.0) | s1: not reached; s2: 150000, 0.0 |"'
"$bin/rldt" report "$tmp/known" --reach=x >"$tmp/rep10" 2>&1
check "--reach=x is refused (status $?)" grep -q "needs a number" "$tmp/rep10"
# ---- a run whose configuration is refused fails at once, is not relaunched, shows why ----
"$bin/rldt" sweep --out="$tmp/badrun" --algos=rldt --tasks=hopper --seeds=1 --retries=3 \
    --base-policy="$tmp/no-such.rldt" >"$tmp/badrun.out" 2>&1
rc=$?
check "a sweep whose run is refused ends with status 1 ($rc)" test "$rc" = 1
check "... the run FAILED with exit status 2, not relaunched" \
    eval 'grep -q "s1 FAILED (exit status 2), see" "$tmp/badrun.out" &&
          ! grep -q relaunching "$tmp/badrun.out"'
check "... the end of its log says why" grep -q "| rldt run: base_policy .*no-such.rldt" \
    "$tmp/badrun.out"
"$bin/rldt" sweep --out="$tmp/badrun" --retries=x >"$tmp/badrun2.out" 2>&1
check "--retries=x is refused (status 2)" test $? = 2
# ---- two sweeps side by side in one report ----
"$bin/rldt" report "$sw" "$tmp/known" >"$tmp/rep4" 2>&1
check "two sweeps without --out are refused (status $?)" grep -q "need --out=DIR" "$tmp/rep4"
"$bin/rldt" report "$sw" "$tmp/known" --out="$tmp/both" >"$tmp/rep5" 2>&1
check "rldt report SWEEP SWEEP --out=DIR succeeds ($?)" test -s "$tmp/both/report.md"
for a in rldt reinflow algo; do
    check "... one hopper table with a row for $a" grep -Eq "^\| $a \| 2 \|" "$tmp/both/report.md"
done
check "... a single hopper section" test "$(grep -c "^## hopper" "$tmp/both/report.md")" = 1
check "... the same algo row as its own sweep's report" \
    test "$(grep -E "^\| algo \|" "$tmp/both/report.md")" = "$row"
check "... the commands that reproduce it" \
    grep -q "rldt report $sw $tmp/known --out=$tmp/both" "$tmp/both/report.md"
check "... and its PNG" test -s "$tmp/both/report-hopper.png"
# ---- --keep-data: the report redone from its own copy of the data ----
"$bin/rldt" report "$sw" "$tmp/known" --out="$tmp/kept" --keep-data >"$tmp/rep6" 2>&1
check "--keep-data copies every run's eval.csv (status $?)" \
    test "$(find "$tmp/kept/data" -name eval.csv | wc -l)" = 6
check "... and its keys, without run_dir or absolute paths" \
    eval 'grep -q "^eval_every = " "$tmp/kept/data/hopper/rldt/s1/config.ini" &&
        ! grep -q "^run_dir\|= /" "$tmp/kept/data/hopper/rldt/s1/config.ini"'
"$bin/rldt" report "$tmp/kept/data" --out="$tmp/again" >"$tmp/rep7" 2>&1
check "... from which the same tables come back (status $?)" \
    eval 'diff <(grep "^|" "$tmp/kept/report.md" | sort) <(grep "^|" "$tmp/again/report.md" | sort)'
"$bin/rldt" report "$sw" --keep-data >"$tmp/rep8" 2>&1
check "--keep-data without --out is refused (status $?)" grep -q "needs --out=DIR" "$tmp/rep8"
# ---- deploy/scripts/comparison.sh: two of its sweeps, tiny, both stages and the report ----
cmpx=${tiny/--max-env-steps=4000/}
WORK="$tmp/cmp" OUT="$tmp/cmpout" SEEDS=1 STEPS1=2000 STEPS2=3000 RLDT="$bin/rldt" \
    ONLY="rldt-hopper reinflow-hopper" EVAL="--eval-every=1000 --eval-episodes=1" EXTRA="$cmpx" \
    deploy/scripts/comparison.sh >"$tmp/cmp.out" 2>&1
rc=$?
check "comparison.sh ONLY=... runs its two sweeps, stage 2 and the report (status $rc)" \
    eval '[ $rc = 0 ] && test -s "$tmp/cmpout/report.md" && test -s "$tmp/cmpout/report-hopper.png"'
last_steps() { tail -n 1 "$1" | cut -d, -f2; }
rs=$(last_steps "$tmp/cmp/rldt-hopper/hopper/rldt/s1/eval.csv")
fs=$(last_steps "$tmp/cmp/reinflow-hopper/hopper/reinflow/s1/eval.csv")
check "... RLDT continued to STEPS2 ($rs), ReinFlow left at STEPS1 ($fs)" \
    eval '[ "$rs" -ge 3000 ] && [ "$fs" -ge 2000 ] && [ "$fs" -lt 3000 ]'
check "... the report has a row for each, with their data kept" \
    eval 'grep -Eq "^\| rldt \| 1 \|" "$tmp/cmpout/report.md" &&
          grep -Eq "^\| reinflow \| 1 \|" "$tmp/cmpout/report.md" &&
          test -s "$tmp/cmpout/data/hopper/reinflow/s1/eval.csv"'
RLDT="$tmp/none" deploy/scripts/comparison.sh >"$tmp/cmp2.out" 2>&1
check "... without a built rldt it stops and says so (status $?)" grep -q "run make first" "$tmp/cmp2.out"
mkdir -p "$tmp/empty"
"$bin/rldt" report "$tmp/empty" >"$tmp/rep2" 2>&1
rc=$?
check "a directory without runs gives status 2 ($rc)" test "$rc" = 2
check "... and says it holds no run" grep -q "holds no run" "$tmp/rep2"
dc_finish
