#!/bin/bash
# integ_base.sh — the base-policy pipeline (deploy/scripts/base-policies.sh, what `make
# base-policies` runs) end to end in its TINY mode (tiny SAC, 4 000 collected steps, 100 pretrain
# steps, any return accepted): SAC starts, its first judged checkpoint is kept, SAC is gone, the
# dataset verifies, the flow policy is pre-trained, evaluated and copied out with its JSON; a
# rerun does nothing; a task without a band is refused; the stochastic selection mode is used
# when asked. Prints "integ_base: N passed, N failed".
dc_name=integ_base
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, free_ports, dc_bins and dc_finish
dc_tmp # RLDT_ROOT, bin, tmp, removed on exit (KEEP=1 keeps it)
script=$RLDT_ROOT/deploy/scripts/base-policies.sh
export RLDT=$bin/rldt TINY=1 WORK=$tmp/work
# the hopper slot of the script's ports: PORT_BASE .. +3
PORT_BASE=$(free_ports 4)
export PORT_BASE

timeout "$(stretch 300)" "$script" hopper >"$tmp/out1" 2>&1
rc=$?
check "the pipeline ends with status 0 (got $rc)" test "$rc" = 0
w=$tmp/work/hopper
check "SAC was judged by its mean action (deterministic, the hopper default)" \
    grep -q "hopper: ckpt-[0-9]*.rldt deterministic return" "$tmp/out1"
first=$(sed -nE 's/.*hopper: (ckpt-[0-9]+\.rldt) deterministic return.*/\1/p' "$tmp/out1" | head -n 1)
check "the first judged checkpoint (${first:-none}) became medium.rldt" \
    eval 'test -s "$w/medium.rldt" && grep -q "^${first:-none}," "$w/medium.txt"'
check "no SAC process of the pipeline is left" eval '! pgrep -f "$w/sac" >/dev/null'
check "the collected dataset verifies (rldt dataset-info)" \
    "$bin/rldt" dataset-info "$w/medium.dset"
steps=$("$bin/rldt" dataset-info "$w/medium.dset" 2>/dev/null | sed -nE 's/^steps ([0-9]+) .*/\1/p')
check "... and holds the 4000 steps asked for (${steps:-?})" test "${steps:-0}" = 4000
check "the flow policy was pre-trained with a loss curve" \
    eval 'test -s "$w/flow.rldt" && test "$(wc -l <"$w/flow.loss.csv")" -gt 1'
out=$tmp/work/policies
check "the flow policy was shipped with its evaluation" \
    eval 'test -s "$out/hopper.rldt" && grep -q "\"return_mean\"" "$out/hopper.json"'
check "the shipped file is a flow policy rldt eval reproduces" \
    eval '"$bin/rldt" eval --env=hopper --policy="$out/hopper.rldt" --episodes=2 --deterministic --json |
          grep -q "\"episodes\":2"'
check "the shipped file is the pre-trained one (same bytes)" cmp -s "$w/flow.rldt" "$out/hopper.rldt"
paths=$(strings "$out/hopper.rldt" | grep -E '^(dataset|out|run_dir|policy|base_policy) = ')
check "its embedded config names the dataset and output without directories ($(echo $paths))" \
    eval 'echo "$paths" | grep -q "^dataset = medium.dset$" && ! echo "$paths" | grep -q /'

# ---- a rerun reuses every finished stage (TINY mode only evaluates and ships again) ----
timeout "$(stretch 60)" "$script" hopper >"$tmp/out2" 2>&1
rc=$?
check "a rerun ends with status 0 (got $rc)" test "$rc" = 0
check "... without starting SAC, collecting or pre-training again" \
    eval '! grep -Eq "starting SAC|collecting|pre-training" "$tmp/out2"'
check "... and ships the same policy" cmp -s "$w/flow.rldt" "$out/hopper.rldt"

# ---- a task without a medium band ----
TINY=0 timeout "$(stretch 30)" "$script" ant >"$tmp/out3" 2>&1
rc=$?
check "a task without a medium band is refused (status $rc)" test "$rc" != 0
check "... saying so" grep -q "no medium band for task ant" "$tmp/out3"

# ---- the stochastic selection, stage 1 only (a fresh work dir; stopped once it has judged) ----
WORK=$tmp/work2 SELECT_hopper=stochastic timeout "$(stretch 300)" "$script" hopper >"$tmp/out4" 2>&1
rc=$?
check "a stochastic-selection pipeline ends with status 0 (got $rc)" test "$rc" = 0
check "... judging checkpoints by their sampling policy's return" \
    grep -q "hopper: ckpt-[0-9]*.rldt stochastic return" "$tmp/out4"
dc_finish
