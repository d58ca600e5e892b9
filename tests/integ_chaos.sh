#!/bin/bash
# integ_chaos.sh — bad days on loopback: the learner (tiny SAC, a checkpoint and a replay save
# every second) is killed with SIGKILL again and again, half of the times while a checkpoint or
# replay file is being written, and resumed with --resume; actors are killed and restarted too.
# Checks that nothing accepted is lost past a checkpoint (each resume starts at or after the
# newest checkpoint written before the kill, and restores at least the newest saved replay), no
# torn or temporary file is ever loaded, metrics.csv and eval.csv never go back, and the run
# still reaches its budget and exits 0. CHAOS_ROUNDS=N (default 6, about a minute) for a
# longer run. Ends with a short `rldt bench soak` (SOAK_MINUTES, default 0.25). Prints "integ_chaos: N passed, N failed".
# test-timeout: 300
dc_name=integ_chaos
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, free_ports, dc_bins and dc_finish
rounds=${CHAOS_ROUNDS:-6}
lp=""
apids=()
dc_stop() {
    local p
    for p in $lp "${apids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
}
dc_tmp   # RLDT_ROOT, bin, tmp, removed on exit (KEEP=1 keeps it)
dc_ports # p, ports
run=$tmp/run
log=$run/log.txt
cfg="--algo=sac --env=hopper --actors=2 --num-envs=2 --sac-hidden=32 --warmup-steps=500
     --min-replay=500 --segment-len=32 --eval-every=1500 --eval-episodes=1 --checkpoint-secs=1
     --replay-save-secs=1 --metrics-secs=1 --seed=5 --heartbeat-secs=0.5 --actor-timeout=3
     --max-env-steps=1000000"

# shellcheck disable=SC2086
start_learner() { "$bin/rldt-learner" $cfg $ports --run-dir="$run" "$@" >>"$tmp/learner.err" 2>&1 & lp=$!; }
# shellcheck disable=SC2086
start_actor() { # start_actor SLOT NAME [ROLE]
    "$bin/rldt-actor" $cfg $ports --actor-name="$2" ${3:+--actor-role=$3} >>"$tmp/$2.err" 2>&1 &
    apids[$1]=$!
}
# wait_line FROM PATTERN SECS: a log line after line FROM matches PATTERN (extended regex)
wait_line() {
    local end=$((SECONDS + $3))
    while [ $SECONDS -lt $end ]; do
        tail -n +"$(($1 + 1))" "$log" 2>/dev/null | grep -Eq "$2" && return 0
        kill -0 "$lp" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
# max_field FILE PATTERN FIELD: the largest FIELD=N on lines matching PATTERN (0 if none)
max_field() {
    grep -E "$2" "$1" 2>/dev/null | grep -oE "$3=[0-9]+" | cut -d= -f2 | sort -n | tail -n 1 |
        grep . || echo 0
}
# spin until a temporary file exists next to the checkpoints or the replay, then kill -9:
# the kill lands inside a write (checked: the temporary file is still there afterwards)
kill_mid_write() {
    local end=$((SECONDS + 20)) f old
    shopt -s nullglob
    old=" $(echo "$run"/checkpoints/*.tmp* "$run"/*.tmp*) " # left by earlier kills
    while [ $SECONDS -lt $end ]; do
        for f in "$run"/checkpoints/*.tmp* "$run"/*.tmp*; do
            case $old in *" $f "*) continue ;; esac
            kill -9 "$lp" 2>/dev/null
            [ -e "$f" ] && { midwrite=$((midwrite + 1)); echo "    round $r: killed while writing ${f##*/}"; }
            return
        done
    done
    kill -9 "$lp" 2>/dev/null
}
# replay_steps FILE: the step count in a saved replay (section "meta", u64 [2]; see
# common/ckpt.h for the container: section table at 48, entries {name[48], offset, size})
replay_steps() {
    local n i name off
    [ -s "$1" ] || { echo 0; return; }
    n=$(od -An -tu4 -j12 -N4 "$1" | tr -d ' ')
    for i in $(seq 0 $((n - 1))); do
        name=$(dd if="$1" bs=1 skip=$((48 + 64 * i)) count=48 2>/dev/null | tr -d '\0')
        if [ "$name" = meta ]; then
            off=$(od -An -tu8 -j$((48 + 64 * i + 48)) -N8 "$1" | tr -d ' ')
            od -An -tu8 -j$((off + 16)) -N8 "$1" | tr -d ' '
            return
        fi
    done
    echo 0
}
monotonic() { # monotonic FILE COLUMN: the column never decreases (header skipped)
    awk -F, -v c="$2" 'NR > 1 { if ($c + 0 < prev) { print "row " NR ": " $c " < " prev; exit 1 } prev = $c + 0 }' "$1"
}

midwrite=0
lost=0
torn=0
resumes=0
last_ckpt=0
last_saved=0
start_learner
wait_line 0 'learner|checkpoint' 30
start_actor 0 a0
start_actor 1 a1
start_actor 2 eval eval
for r in $(seq 1 "$rounds"); do
    mark=$(wc -l <"$log")
    if [ "$r" -gt 1 ]; then
        start_learner --resume
        if wait_line "$mark" 'resumed from' 60; then # generous: a loaded CI host
            resumes=$((resumes + 1))
            line=$(tail -n +"$((mark + 1))" "$log" | grep -E 'resumed from' | head -n 1)
            got=$(echo "$line" | grep -oE 'env_steps=[0-9]+' | cut -d= -f2)
            from=$(echo "$line" | grep -oE 'resumed from [^ ]+' | cut -d' ' -f3)
            case $from in *.tmp*) torn=$((torn + 1)) ;; esac
            rl=$(tail -n +"$((mark + 1))" "$log" | grep -oE 'replay restored: [0-9]+' | grep -oE '[0-9]+$')
            echo "    round $r: resumed at env_steps=$got (newest checkpoint before the kill: $last_ckpt)," \
                "replay ${rl:-none} chunk steps (saved: $last_saved)"
            [ "${got:-0}" -ge "$last_ckpt" ] || lost=$((lost + 1))
            if [ "$last_saved" -gt 0 ] && [ "${rl:-0}" -lt "$last_saved" ]; then
                echo "    round $r: replay restored ${rl:-no} chunk steps, $last_saved were saved before the kill"
                lost=$((lost + 1))
            fi
        else
            bad "round $r: the learner resumes after kill -9"
            tail -n 5 "$tmp/learner.err" | sed 's/^/    /'
        fi
    fi
    # some progress in this life: a checkpoint written after the (re)start
    wait_line "$mark" 'info: checkpoint ' 40 || echo "    round $r: no checkpoint within 40 s"
    if [ $((r % 2)) -eq 1 ]; then
        kill_mid_write
    else
        sleep "0.$((RANDOM % 9))"
        kill -9 "$lp" 2>/dev/null
    fi
    wait "$lp" 2>/dev/null
    last_ckpt=$(max_field "$log" 'info: checkpoint ' env_steps)
    last_saved=$(replay_steps "$run/replay.rldt") # the newest complete save
    # actors: kill one every other round and start a new one in its place
    if [ $((r % 2)) -eq 0 ]; then
        a=$((r / 2 % 2))
        kill -9 "${apids[$a]}" 2>/dev/null
        wait "${apids[$a]}" 2>/dev/null
        start_actor "$a" "a$a"
    fi
done

# the last life runs to a budget a little past where it resumes
budget=$((last_ckpt + 3000))
mark=$(wc -l <"$log")
start_learner --resume --max-env-steps=$budget
end=$((SECONDS + 120))
while kill -0 "$lp" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.5; done
if kill -0 "$lp" 2>/dev/null; then
    kill -9 "$lp"
    rc=timeout
else
    wait "$lp"
    rc=$?
fi
check "after $rounds kills the resumed learner reaches its budget and exits 0 (got $rc)" test "$rc" = 0
final=$(max_field "$log" 'info: checkpoint ' env_steps)
check "... with a final checkpoint at the budget (env_steps $final >= $budget)" test "$final" -ge "$budget"
check "every kill was followed by a resume ($resumes of $((rounds - 1)))" test "$resumes" -eq $((rounds - 1))
check "kills landed during a checkpoint or replay write ($midwrite of $(((rounds + 1) / 2)) aimed)" \
    test "$midwrite" -ge 1
check "no resume went back past a checkpoint or lost a saved replay ($lost)" test "$lost" -eq 0
check "no temporary file was resumed from ($torn)" test "$torn" -eq 0
check "no checkpoint was skipped as damaged" eval '! grep -q "skipping checkpoint" "$log"'
check "no replay was refused as damaged" eval '! grep -Eq "replay not restored.*(truncated|checksum)" "$log"'
check "metrics.csv's wall clock never goes back" monotonic "$run/metrics.csv" 1
check "metrics.csv's env steps never go back" monotonic "$run/metrics.csv" 2
check "eval.csv has evaluations" test "$(wc -l <"$run/eval.csv")" -ge 2
check "eval.csv's env steps never go back" monotonic "$run/eval.csv" 2
check "actors re-registered with each new learner" \
    test "$(cat "$tmp"/a0.err "$tmp"/a1.err | grep -c 'after a learner restart')" -ge 1
left=$(ls "$run"/checkpoints/*.tmp* "$run"/*.tmp* 2>/dev/null | wc -l)
echo "    note: $left temporary files left by the kills"

# ---- rldt bench soak: a short one (the figures need minutes: see deploy/results/README.md) ----
# shellcheck disable=SC2086
timeout "$(stretch 90)" "$bin/rldt" bench soak --minutes="${SOAK_MINUTES:-0.25}" $cfg $ports >"$tmp/soak.out" 2>&1
rc=$?
sed 's/^/    /' "$tmp/soak.out" | tail -n 4
check "rldt bench soak runs to its end (status $rc)" test "$rc" = 0
check "... and reports an RSS slope for the learner and each actor" \
    test "$(grep -cE '^(learner|actor-[01]) +rss [0-9.]+ -> [0-9.]+ MB, slope [-+][0-9.]+ MB/min' "$tmp/soak.out")" = 3
dc_finish
