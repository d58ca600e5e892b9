#!/bin/bash
# integ_run.sh — the local launcher `rldt run` as a user drives it, on loopback with tiny SAC
# networks: a run to its step budget (run directory contents, eval at start and end, curve,
# event file, no process left), a second launch on the same directory refused without
# --resume, a resumed run (given only the directory) that continues (steps, wall-clock, its saved
# replay; rows written after the checkpoint moved aside), a failed resume that leaves config.ini
# alone, a damaged replay file survived, and Ctrl-C (SIGINT) mid-run: a final checkpoint, exit
# status 130 and "stopped"; actors that cannot start stop the run (status 1); the first run's evaluation video (MP4 and a TensorBoard GIF).
# Prints "integ_run: N passed, N failed".
# test-timeout: 400
dc_name=integ_run
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, free_ports, dc_bins and dc_finish
launcher=""
dc_stop() { [ -n "$launcher" ] && kill -9 "$launcher" 2>/dev/null; }
dc_tmp   # RLDT_ROOT, bin, tmp, removed on exit (KEEP=1: leave the runs for inspection)
dc_ports # p, ports
tiny="--algo=sac --env=hopper --actors=1 --num-envs=2 --sac-hidden=32 --warmup-steps=500
      --min-replay=500 --segment-len=32 --eval-every=1000 --eval-episodes=2 --checkpoint-secs=2
      --metrics-secs=1 --seed=3 --video-every=0"
run=$tmp/run

# ---- a run to its budget ----
# shellcheck disable=SC2086
timeout "$(stretch 120)" "$bin/rldt" run $tiny $ports --max-env-steps=8000 --run-dir="$run" --video-every=5 \
    --video-size=64 >"$tmp/out1" 2>&1
rc=$?
check "rldt run ends by itself with status 0 (got $rc)" test "$rc" = 0
for f in config.ini log.txt metrics.csv eval.csv curve.png actor-0.log eval.log; do
    check "run directory has $f" test -s "$run/$f"
done
check "run directory has a TensorBoard event file" \
    eval 'ls "$run"/events.out.tfevents.* >/dev/null 2>&1'
# (a progress line comes every 10 s without a tty; on a loaded machine the first may come
# before the training actor registered, so 0 is allowed: what must never show is the evaluator)
check "the progress line counts the one training actor, not the evaluator" \
    eval 'grep -Eq "\| actors [01] \|" "$tmp/out1" && ! grep -q "| actors 2 |" "$tmp/out1"'
"$RLDT_ROOT/tests/tbevents.py" "$run" >"$tmp/tb1" 2>&1
check "the event file groups its tags (eval/, rollout/, train/, time/)" \
    eval 'grep -q "^eval/return " "$tmp/tb1" && grep -q "^rollout/return " "$tmp/tb1" &&
          grep -q "^train/critic_loss " "$tmp/tb1" && grep -q "^time/env_steps_per_second " "$tmp/tb1" &&
          ! grep -Eq "^(eval_return|wall_s|critic_loss) " "$tmp/tb1"'
check "every eval.csv row, the final evaluation too, is in the event files under eval/return" \
    /usr/bin/python3 -c '
import sys
tb = {}
for line in open(sys.argv[1]):
    tag, step, v = line.split()
    if tag == "eval/return":
        tb.setdefault(int(step), []).append(float(v))
rows = [l.split(",") for l in open(sys.argv[2]).read().split("\n")[1:] if l]
assert len(rows) >= 2, rows
for r in rows:
    assert any(abs(v - float(r[3])) <= 1e-3 * max(1, abs(v)) for v in tb.get(int(r[1]), [])), r
print(len(rows), "rows")
' "$tmp/tb1" "$run/eval.csv"
# evaluation videos (video_every 5: the first evaluation records one): an H.264 MP4 in videos/
# and the same episode as an animated GIF image summary in the event files
mp4=$(ls "$run"/videos/eval-*.mp4 2>/dev/null | head -n 1)
check "the evaluator left an MP4 in videos/ (${mp4##*/})" eval '[ -n "$mp4" ] &&
    ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$mp4" | grep -qx h264'
mkdir -p "$tmp/img"
"$RLDT_ROOT/tests/tbevents.py" --images="$tmp/img" "$run" >"$tmp/images" 2>&1
gif=$(awk '$1 == "eval/video" { print $7; exit }' "$tmp/images")
check "the event files hold an eval/video image summary, a 32x32 animated GIF ($(head -n 1 "$tmp/images"))" \
    eval '[ -n "$gif" ] && [ "$(head -c 6 "$tmp/img/$gif")" = GIF89a ] &&
          ffprobe -v error -count_frames -show_entries stream=codec_name,width,nb_read_frames \
              -of csv=p=0 "$tmp/img/$gif" | grep -Eq "^gif,32,([2-9]|[1-9][0-9]+)$"'
check "run directory has a checkpoint" eval 'ls "$run"/checkpoints/ckpt-*.rldt >/dev/null 2>&1'
check "curve.png is a PNG" eval '[ "$(head -c 8 "$run/curve.png" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]'
check "it prints the eval return at start and at end" \
    grep -Eq 'eval return -?[0-9.]+ at start \([0-9]+ env steps\) -> -?[0-9.]+ \+- [0-9.]+ at end' "$tmp/out1"
last=$(tail -n 1 "$run/eval.csv")
steps=$(echo "$last" | cut -d, -f2)
check "eval.csv's last row is the final policy (env steps $steps >= 8000)" test "${steps:-0}" -ge 8000
first=$(sed -n 2p "$run/eval.csv" | cut -d, -f2)
check "eval.csv starts with an earlier evaluation (at ${first:-?} env steps)" \
    test "${first:-999999}" -lt "${steps:-0}"
check "no rldt process of the run is left" eval '! pgrep -f "$run" >/dev/null'
check "the replay was saved at the end (replay.rldt)" test -s "$run/replay.rldt"
w1=$(tail -n 1 "$run/metrics.csv" | cut -d, -f1)
rows1=$(wc -l <"$run/metrics.csv")

# ---- the same directory again ----
# shellcheck disable=SC2086
timeout "$(stretch 30)" "$bin/rldt" run $tiny $ports --max-env-steps=8000 --run-dir="$run" >"$tmp/out2" 2>&1
rc=$?
check "a second run on a directory with checkpoints is refused (status $rc)" test "$rc" != 0
check "... saying to add --resume" grep -q -- "--resume" "$tmp/out2"

# ---- a resume that fails (a SAC run resumed as RLDT) leaves config.ini as it was ----
cp "$run/config.ini" "$tmp/config.before"
# shellcheck disable=SC2086
timeout "$(stretch 60)" "$bin/rldt" run $ports --run-dir="$run" --resume --algo=rldt \
    --base-policy="$RLDT_ROOT/deploy/policies/hopper.rldt" >"$tmp/out2b" 2>&1
rc=$?
check "a resume with the wrong --algo fails (status $rc)" test "$rc" != 0
check "... and leaves config.ini unchanged, no config.ini.next behind" \
    eval 'cmp -s "$tmp/config.before" "$run/config.ini" && [ ! -e "$run/config.ini.next" ]'

# ---- a resume whose base policy file is gone: refused before anything starts, with the fix ----
# shellcheck disable=SC2086
timeout "$(stretch 30)" "$bin/rldt" run $ports --run-dir="$run" --resume --algo=rldt \
    --base-policy="$tmp/moved.rldt" >"$tmp/out2c" 2>&1
rc=$?
check "a resume whose base policy is missing is refused with status 2 (got $rc)" test "$rc" = 2
check "... naming the file and --base-policy=FILE" \
    eval 'grep -q "moved.rldt: No such file" "$tmp/out2c" && grep -q -- "--base-policy=FILE" "$tmp/out2c"'
check "... and leaves config.ini unchanged" cmp -s "$tmp/config.before" "$run/config.ini"

# ---- resumed: only the directory and a new budget (the run's own config.ini does the rest) ----
# rows written after the newest checkpoint (work a crash lost) must leave the files' timeline
lost=$(awk -v w="$w1" 'BEGIN { printf "%.3f", w + 5000 }')
echo "$lost,999999,1,2,3" >>"$run/metrics.csv"
echo "$lost,999999,77,1.0,0.0,1.0" >>"$run/eval.csv"
# shellcheck disable=SC2086
timeout "$(stretch 120)" "$bin/rldt" run $ports --max-env-steps=10000 --run-dir="$run" --resume \
    >"$tmp/out3" 2>&1
rc=$?
check "the resumed run ends with status 0 (got $rc)" test "$rc" = 0
check "... with the run's saved settings" grep -q "resuming with $run/config.ini" "$tmp/out3"
steps=$(tail -n 1 "$run/eval.csv" | cut -d, -f2)
check "the resumed run went on to its new budget ($steps >= 10000)" test "${steps:-0}" -ge 10000
w2=$(tail -n 1 "$run/metrics.csv" | cut -d, -f1)
rows2=$(wc -l <"$run/metrics.csv")
check "wall-clock continues across the resume ($w1 -> $w2, $rows1 -> $rows2 rows)" \
    awk -v a="$w1" -v b="$w2" -v r1="$rows1" -v r2="$rows2" 'BEGIN { exit !(b >= a && r2 > r1) }'
check "... from the checkpoint's rows, not from rows after it ($w2 < $lost)" \
    awk -v b="$w2" -v l="$lost" 'BEGIN { exit !(b < l) }'
check "rows after the checkpoint moved out of metrics.csv and eval.csv" \
    eval '! grep -q ",999999," "$run/metrics.csv" "$run/eval.csv"'
check "... into metrics.csv.superseded and eval.csv.superseded" \
    eval 'grep -q ",999999," "$run/metrics.csv.superseded" && grep -q ",999999," "$run/eval.csv.superseded"'
check "eval.csv's env steps never go back" \
    awk -F, 'NR > 1 { if ($2 + 0 < prev) exit 1; prev = $2 + 0 }' "$run/eval.csv"
n=$(grep -o 'replay restored: [0-9]* chunk steps' "$run/log.txt" | head -n 1 | grep -o '[0-9][0-9]*')
check "the resumed run trained on the saved replay (${n:-no} chunk steps restored)" \
    test "${n:-0}" -ge 1000

# ---- resumed with a damaged replay file: refused with a reason, the run goes on without it ----
head -c 3000 "$run/replay.rldt" >"$run/replay.cut" && mv "$run/replay.cut" "$run/replay.rldt"
# shellcheck disable=SC2086
timeout "$(stretch 120)" "$bin/rldt" run $ports --max-env-steps=12000 --run-dir="$run" --resume \
    >"$tmp/out3b" 2>&1
rc=$?
check "a resume with a truncated replay.rldt ends with status 0 (got $rc)" test "$rc" = 0
check "... saying why the replay was not restored" \
    grep -q "replay not restored (.*truncated" "$run/log.txt"
steps=$(tail -n 1 "$run/eval.csv" | cut -d, -f2)
check "... and reaches its budget ($steps >= 12000)" test "${steps:-0}" -ge 12000

# ---- an evaluation longer than actor_timeout: the evaluator keeps heartbeating ----
run3=$tmp/run3
# shellcheck disable=SC2086
timeout "$(stretch 120)" "$bin/rldt" run $tiny $ports --env=halfcheetah --eval-episodes=120 \
    --heartbeat-secs=0.5 --actor-timeout=2 --eval-every=8000 --max-env-steps=20000 \
    --run-dir="$run3" >"$tmp/out5" 2>&1
rc=$?
check "a run with long evaluations ends with status 0 (got $rc)" test "$rc" = 0
secs=$(grep -o 'eval 1: .*(v[0-9]*, [0-9.]*s)' "$run3/eval.log" | head -n 1 | sed -E 's/.*, ([0-9.]+)s\)$/\1/')
check "... whose first evaluation outlasted actor_timeout (${secs:-?} s > 2 s)" \
    awk -v s="${secs:-0}" 'BEGIN { exit !(s > 2) }'
check "... and the evaluator was never taken for gone" \
    eval '! sed "/learner ended the run/,\$d" "$run3/eval.log" | grep -q "registering again" &&
        ! grep -q "unknown_actor" "$run3/log.txt"'
grep -h "registering again\|unknown_actor\|ended the run" "$run3/eval.log" "$run3/log.txt" |
    head -n 4 | sed 's/^/    /'

# ---- Ctrl-C ----
run2=$tmp/run2
# shellcheck disable=SC2086
"$bin/rldt" run $tiny $ports --max-env-steps=100000000 --run-dir="$run2" >"$tmp/out4" 2>&1 &
launcher=$!
for _ in $(seq 1 300); do # until training has started (a metrics row with updates)
    [ "$(tail -n 1 "$run2/metrics.csv" 2>/dev/null | cut -d, -f4)" -gt 0 ] 2>/dev/null && break
    sleep 0.1
done
kill -INT "$launcher"
for _ in $(seq 1 300); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
check "Ctrl-C stops the launcher within 30 s" eval '! kill -0 "$launcher" 2>/dev/null'
wait "$launcher" 2>/dev/null
rc=$?
launcher=""
check "... with exit status 130 (got $rc)" test "$rc" = 130
check "... saying it stopped, not finished" \
    eval 'grep -q "rldt run: stopped after" "$tmp/out4" && ! grep -q "rldt run: finished" "$tmp/out4"'
check "... after a final checkpoint" grep -q "stopping on signal: final checkpoint" "$run2/log.txt"
check "... and leaves no rldt process of the run" eval '! pgrep -f "$run2" >/dev/null'

# ---- actors that cannot start (no model files): the run stops instead of waiting forever ----
run5=$tmp/run5
mkdir -p "$tmp/nomodels"
# shellcheck disable=SC2086
RLDT_MODELS=$tmp/nomodels timeout "$(stretch 120)" "$bin/rldt" run $tiny $ports --max-env-steps=8000 \
    --run-dir="$run5" >"$tmp/out5" 2>&1
rc=$?
check "a run whose actors cannot start exits with status 1 (got $rc)" test "$rc" = 1
check "... saying the actors failed and why (the actor's log)" \
    eval 'grep -q "every actor exited with an error" "$tmp/out5" &&
        grep -q "hopper.xml not found" "$tmp/out5" && grep -q "actors failed" "$tmp/out5"'
check "... and leaves no rldt process of the run" eval '! pgrep -f "$run5" >/dev/null'

# ---- the replay file's benchmark (what the resume above relies on), at toy size ----
"$bin/rldt" bench replay --replay-size=5000 --run-dir="$tmp" >"$tmp/out6" 2>&1
rc=$?
check "rldt bench replay runs (status $rc)" test "$rc" = 0
check "... and prints save and load next to raw file I/O" \
    eval 'grep -q "^save .* vs raw write+fsync .* ratio" "$tmp/out6" && grep -q "^load .* vs raw read .* ratio" "$tmp/out6"'
check "... leaving no file behind" eval '! ls "$tmp"/*bench* >/dev/null 2>&1'

# ---- the wire benchmark: a valid segment round-trips, both times next to memcpy ----
"$bin/rldt" bench wire --chunk=4 --segment-len=256 --secs=0.2 >"$tmp/out7" 2>&1
rc=$?
check "rldt bench wire runs (status $rc)" test "$rc" = 0
check "... and prints pack and decode next to memcpy" \
    eval 'grep -q "^pack .* decode+validate .* memcpy .* ratio memcpy/pack" "$tmp/out7"'

dc_finish
