#!/bin/bash
# integ_reinflow.sh — `rldt run --algo=reinflow` on Hopper with toy budgets, on loopback: the
# run trains (PPO iterations on fresh batches of one policy version each), publishes versions,
# writes eval.csv and metrics.csv (the learner's recomputed log-likelihoods agree with the
# actors'), drops and counts segments of older policy versions (stale_policy on /metrics), and a
# resume from its checkpoint continues the iterations. Prints "integ_reinflow: N passed, N failed".
# test-timeout: 240
dc_name=integ_reinflow
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, free_ports, dc_bins and dc_finish
dc_bins                             # RLDT_ROOT, bin
tmp=$(mktemp -d /tmp/rldt-reinflow-XXXXXX)
launcher=""
cleanup() {
    [ -n "${KEEP:-}" ] && { echo "kept $tmp"; return; } # KEEP=1: leave the run for inspection
    [ -n "$launcher" ] && kill -9 "$launcher" 2>/dev/null
    pkill -9 -f "$tmp/" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$RLDT_ROOT" || exit 1 # the default base policy: deploy/policies/hopper.rldt

p=$(free_ports 4)
sp=$((p + 3))
ports="--control-port=$p --data-port=$((p + 1)) --params-port=$((p + 2)) --stats=127.0.0.1:$sp"
tiny="--algo=reinflow --env=hopper --base-policy=deploy/policies/hopper.rldt --actors=1 --num-envs=4 --max-episode-steps=200
      --segment-len=32 --eval-every=1500 --eval-episodes=2 --checkpoint-secs=1 --metrics-secs=1
      --min-replay=64 --replay-size=4000 --flow-steps=4 --reinflow-batch=256
      --reinflow-minibatch=128 --reinflow-epochs=2 --reinflow-critic-hidden=64 --seed=5"
run=$tmp/run

# ---- a run to its budget, watching /metrics for dropped stale segments ----
# shellcheck disable=SC2086
timeout "$(stretch 180)" "$bin/rldt" run $tiny $ports --max-env-steps=6000 --run-dir="$run" >"$tmp/out1" 2>&1 &
launcher=$!
stale=0
while kill -0 "$launcher" 2>/dev/null; do
    n=$(curl -s "127.0.0.1:$sp/metrics" 2>/dev/null |
        sed -n 's/^rldt_rejected_messages_total{reason="stale_policy"} \([0-9]*\).*/\1/p')
    [ -n "$n" ] && [ "$n" -gt "$stale" ] && stale=$n
    sleep 0.3
done
wait "$launcher"
rc=$?
launcher=""
check "rldt run --algo=reinflow ends by itself with status 0 (got $rc)" test "$rc" = 0
check "run directory has eval.csv with rows" test "$(wc -l <"$run/eval.csv" 2>/dev/null)" -ge 3
check "config.ini resolved the runtime to on-policy" \
    eval 'grep -q "^updates_per_step = 0" "$run/config.ini" && grep -q "^max_policy_lag = 0" "$run/config.ini"'
col() { # col FILE NAME: the values of a CSV column, one per line
    awk -F, -v k="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i; next }
                       c { print $c }' "$1"
}
iters=$(col "$run/metrics.csv" iterations | tail -n 1)
ver=$(col "$run/eval.csv" policy_version | tail -n 1)
check "several PPO iterations ran (${iters:-none})" test "${iters:-0}" -ge 2
check "the evaluator saw published versions beyond the first (v${ver:-none})" test "${ver:-0}" -ge 3
check "each iteration trained on a newer version" \
    eval '[ "$(col "$run/metrics.csv" batch_version | sort -un | wc -l)" -ge 2 ]'
gap=$(col "$run/metrics.csv" logp_gap | sort -g | tail -n 1)
check "the learner's log-likelihoods match the actors' (max gap ${gap:-none})" \
    awk -v g="${gap:-1}" 'BEGIN { exit !(g < 1e-3) }'
check "segments of older policy versions were dropped and counted (stale_policy $stale)" \
    test "$stale" -gt 0
check "the learner log names the rejection" grep -q "stale_policy" "$run/log.txt"

# ---- resumed from its checkpoint: the iterations continue ----
# shellcheck disable=SC2086
timeout "$(stretch 180)" "$bin/rldt" run $ports --max-env-steps=9000 --run-dir="$run" --resume >"$tmp/out2" 2>&1
rc=$?
check "the resumed run ends with status 0 (got $rc)" test "$rc" = 0
iters2=$(col "$run/metrics.csv" iterations | tail -n 1)
check "... and trained on (iterations ${iters:-?} -> ${iters2:-?})" \
    test "${iters2:-0}" -gt "${iters:-0}"
check "no process of the run is left" eval '! pgrep -f "$tmp/" >/dev/null'
dc_finish
