#!/bin/bash
# integ_torch.sh — the C RLDT update against its PyTorch reference (deploy/scripts/torch_rldt_ref.py):
# `rldt bench learner --trace` writes one critic step and one actor step (weights, inputs, every
# random draw, losses, gradients, parameters after) at small shapes; the reference redoes them
# and must agree to float tolerance, for two shape sets (TD(λ) windows, an even K, two actor
# micro-batches; λ = 0, an odd K, no trust region, M = 3). A trace with changed draws must be caught, and --trace is
# refused for other algorithms. Skipped, saying so, when no python3 has torch
# (Debian: apt-get install python3-torch). Prints "integ_torch: N passed, N failed".
dc_name=integ_torch
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, dc_bins and dc_finish
dc_bins # RLDT_ROOT, bin
ref=$RLDT_ROOT/deploy/scripts/torch_rldt_ref.py
py=""
for p in "${PYTHON:-python3}" python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
    echo "skipped: no python3 with torch here (Debian: apt-get install python3-torch)"
    dc_finish
fi
tmp=$(mktemp -d /tmp/rldt-torch-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

small="--algo=rldt --env=hopper --flow_hidden=32 --rldt_critic_hidden=32 --batch_size=16
       --rldt_critic_round=2 --seed=5"
shapes_a="--rldt_particles=4 --flow_steps=4 --rldt_lambda=0.9 --rldt_td_horizon=3
          --rldt_actor_batch=600"
shapes_b="--rldt_actor_batch=8 --rldt_particles=3 --flow_steps=3 --flow_depth=2 --rldt_critic_depth=2 --rldt_trust=0
          --rldt_target_samples=3"
for set in a b; do
    eval "shapes=\$shapes_$set"
    # shellcheck disable=SC2086
    "$bin/rldt" bench learner $small $shapes --trace="$tmp/$set.trace" >"$tmp/$set.out" 2>&1
    check "shape set $set: rldt bench learner --trace writes a trace" test -s "$tmp/$set.trace"
    "$py" "$ref" check "$tmp/$set.trace" >"$tmp/$set.check" 2>&1
    rc=$?
    sed 's/^/    /' "$tmp/$set.check"
    check "shape set $set: the PyTorch reference agrees on every comparison (status $rc)" \
        test "$rc" = 0
    n=$(grep -c '^ok ' "$tmp/$set.check")
    check "shape set $set: targets, losses, gradients and parameters were compared ($n)" \
        test "$n" -ge 15
done

# change the actor step's chain noise and the round's target noise: both must be caught
"$py" - "$tmp/a.trace" "$tmp/bad.trace" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for name in (b"a_noise f ", b"c_noise f "):
    at = d.index(b"\n", d.index(name)) + 1
    for i in range(256):  # the sign of the first 256 draws
        d[at + 4 * i + 3] ^= 0x80
open(sys.argv[2], "wb").write(d)
PY
"$py" "$ref" check "$tmp/bad.trace" >"$tmp/bad.check" 2>&1
rc=$?
check "a trace with other random draws is refused (status $rc)" \
    test "$rc" = 1 -a "$(wc -c <"$tmp/bad.trace")" = "$(wc -c <"$tmp/a.trace")"
check "... in the Q-bar of the targets" grep -q '^FAIL Q-bar' "$tmp/bad.check"
check "... and in the actor's losses" grep -q '^FAIL transport loss' "$tmp/bad.check"

"$bin/rldt" bench learner --algo=sac --trace="$tmp/x" >"$tmp/sac.out" 2>&1
rc=$?
check "--trace with --algo=sac is refused (status $rc)" test "$rc" = 2
check "... with a message" grep -q -- "--trace needs --algo=rldt" "$tmp/sac.out"
dc_finish
