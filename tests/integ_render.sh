#!/bin/bash
# integ_render.sh — `rldt render` end to end, headless (EGL surfaceless on the CPU, no display
# or GPU): the shipped Hopper policy becomes an MP4 that ffprobe reads as H.264 yuv420p with one
# frame per env step (+ the reset frame); ffmpeg decodes it to raw frames, which must not be blank
# and must change; a table-top task renders from its wrist camera, also as an animated GIF; the
# pixel lift policy renders (acting on its own camera); bad flags, cameras and paths
# get a clear error and exit 2 (usage) or 1 (runtime), writing nothing.
# Prints "integ_render: N passed, N failed".
# test-timeout: 300
dc_name=integ_render
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, free_ports, dc_bins and dc_finish
py=/usr/bin/python3
dc_workdir # RLDT_ROOT, bin, T (the current directory), rldt
for tool in ffprobe ffmpeg; do
    command -v $tool >/dev/null || { echo "skipped: $tool not installed (deploy/packages.txt)"; dc_finish; exit 0; }
done
policy=$RLDT_ROOT/deploy/policies/hopper.rldt

# ---- hopper, shipped policy, 150 steps at 96x96 ----
"$rldt" render --env=hopper --policy="$policy" --episodes=1 --out=h.mp4 --width=96 --height=96 \
    --max-episode-steps=150 --deterministic >out 2>err
rc=$?
check "render writes h.mp4 (exit $rc: $(tail -n 1 err))" eval '[ $rc = 0 ] && [ -s h.mp4 ]'
check "it reports 151 frames ($(tail -n 1 out))" grep -q "151 frames, 96x96" out
ffprobe -v error -count_frames -select_streams v:0 -show_entries \
    stream=codec_name,pix_fmt,width,height,nb_read_frames -of default=noprint_wrappers=1 h.mp4 >probe
check "ffprobe: H.264 yuv420p 96x96 with 151 frames ($(tr '\n' ' ' <probe))" eval \
    'grep -qx codec_name=h264 probe && grep -qx pix_fmt=yuv420p probe && grep -qx width=96 probe &&
     grep -qx height=96 probe && grep -qx nb_read_frames=151 probe'
ffmpeg -v error -i h.mp4 -f rawvideo -pix_fmt rgb24 frames.rgb
check "decoded frames are not blank and change from frame to frame" $py - <<'PY'
import sys
b = open("frames.rgb", "rb").read()
n = 96 * 96 * 3
frames = [b[i:i + n] for i in range(0, len(b), n)]
assert len(frames) == 151, len(frames)
for k in (0, 75, 150):
    f = frames[k]
    lo, hi = min(f), max(f)
    assert hi - lo > 100, (k, lo, hi)              # a picture, not one colour
    assert len(set(f[::3])) > 20, k                 # many shades
diff = lambda a, b: sum(abs(x - y) for x, y in zip(a, b)) / len(a)
moves = [diff(frames[i], frames[i + 10]) for i in range(0, 140, 10)]
assert min(moves) > 0.5, moves                      # the hopper (and the step counter) move
print("mean abs change per 10 frames", [round(m, 1) for m in moves])
PY

# ---- table-top task from its wrist camera, random policy, two episodes ----
"$rldt" render --env=lift --policy=random --episodes=2 --max-episode-steps=20 --camera=wrist \
    --width=64 --height=48 --out=lift.mp4 >out2 2>err2
rc=$?
check "lift from the wrist camera, 2 episodes: 42 frames (exit $rc: $(tail -n 1 out2))" \
    eval '[ $rc = 0 ] && grep -q "42 frames, 64x48" out2 && grep -c "no success" out2 | grep -qx 2'

# ---- an animated GIF (for a README): same frames, GIF89a, ffmpeg decodes every one ----
"$rldt" render --env=lift --policy=random --episodes=2 --max-episode-steps=20 --camera=wrist \
    --width=64 --height=48 --out=lift.gif >outg 2>errg
rc=$?
check "lift as a GIF: 42 frames (exit $rc: $(tail -n 1 outg))" \
    eval '[ $rc = 0 ] && grep -q "42 frames, 64x48, 20 frames/s, animated GIF" outg'
check "the file is a GIF89a of 64x48" $py - <<'PY'
import struct
b = open("lift.gif", "rb").read()
assert b[:6] == b"GIF89a", b[:6]
assert struct.unpack("<HH", b[6:10]) == (64, 48), b[6:10]
assert b[-1:] == b";", b[-1:]                        # the trailer: a finished file
PY
ffmpeg -v error -i lift.gif -f rawvideo -pix_fmt rgb24 gif.rgb 2>gerr
check "ffmpeg decodes 42 frames of it, not blank ($(cat gerr))" $py - <<'PY'
b = open("gif.rgb", "rb").read()
n = 64 * 48 * 3
assert len(b) == 42 * n, len(b) / n
f = b[20 * n:21 * n]
assert max(f) - min(f) > 100, (min(f), max(f))
PY
"$rldt" render --env=hopper --policy="$policy" --deterministic --episodes=1 --max-episode-steps=100 --width=32 \
    --height=32 --out=h.gif >outh 2>errh
check "hopper (125 steps/s) as a GIF keeps every 5th of 101 frames, 25 frames/s ($(tail -n 1 outh))" \
    eval 'grep -q "21 frames, 32x32, 25 frames/s, animated GIF" outh &&
          [ "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 h.gif)" = 21 ]'
"$rldt" render --env=hopper --policy=random --out=nodir/o.gif --max-episode-steps=2 >/dev/null 2>err9
rc=$?
check "a GIF path in a missing directory fails before the episodes (exit $rc: $(cat err9))" \
    eval '[ $rc = 1 ] && grep -q "nodir/o.gif" err9 && [ ! -e nodir ]'

# ---- a pixel policy acts on its own camera (84 px) while the video shows the task's ----
for k in 1 2; do
    "$rldt" render --env=lift --policy="$RLDT_ROOT/deploy/policies/lift-pixels.rldt" --episodes=2 \
        --max-episode-steps=30 --width=64 --height=64 --seed=5 --out=pix$k.mp4 >outp$k 2>errp$k
    rcp[$k]=$?
done
check "the shipped pixel policy renders: 2 x 30 steps, 62 frames (exit ${rcp[1]}: $(tail -n 1 errp1))" \
    eval '[ ${rcp[1]} = 0 ] && grep -q "62 frames, 64x64" outp1'
check "... the same episodes again with the same seed ($(head -n 1 outp1 | tr -d '\n'))" \
    eval '[ ${rcp[2]} = 0 ] && cmp -s <(grep ^episode outp1) <(grep ^episode outp2)'

# ---- errors ----
"$rldt" render --env=hopper --policy=random --out=c.mp4 --camera=nosuch >/dev/null 2>err3
rc=$?
check "an unknown camera is a usage error listing the cameras (exit $rc: $(cat err3))" \
    eval '[ $rc = 2 ] && grep -q "track" err3 && [ ! -e c.mp4 ]'
"$rldt" render --env=hopper --policy=random >/dev/null 2>err4
rc=$?
check "no --out is a usage error (exit $rc)" eval '[ $rc = 2 ] && grep -q -- "--out" err4'
"$rldt" render --env=hopper --policy=random --out=o.mp4 --width=95 >/dev/null 2>err5
rc=$?
check "an odd width is refused (exit $rc: $(cat err5))" eval '[ $rc = 2 ] && grep -q even err5'
"$rldt" render --env=hopper --policy=nosuch.rldt --out=o.mp4 >/dev/null 2>err6
rc=$?
check "a missing policy file is a usage error (exit $rc: $(cat err6))" \
    eval '[ $rc = 2 ] && grep -q nosuch.rldt err6 && [ ! -e o.mp4 ]'
"$rldt" render --env=hopper --policy=random --out=nodir/o.mp4 --max-episode-steps=2 >/dev/null 2>err7
rc=$?
check "an output path in a missing directory fails with its name (exit $rc: $(cat err7))" \
    eval '[ $rc = 1 ] && grep -q "nodir/o.mp4" err7'
"$rldt" render --env=walker2d --policy="$policy" --out=o.mp4 >/dev/null 2>err8
rc=$?
check "a policy of another task is refused (exit $rc: $(cat err8))" \
    eval '[ $rc = 2 ] && grep -q "trained on hopper" err8'
"$rldt" render --help >help
check "--help lists --width, --camera and --out" \
    eval 'grep -q -- "--width" help && grep -q -- "--camera" help && grep -q -- "--out" help'
dc_finish
