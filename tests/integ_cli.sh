#!/bin/bash
# integ_cli.sh — regression tests of the `rldt` command line's rough edges: --version, per-
# command --help listing only the keys that apply, escaped --json output, collect keeping an
# existing dataset without --force, dataset-info's n/a without a complete episode, plot refusing
# a non-PNG name, `rldt run` refusing a bad stats address or a missing base policy before it
# starts anything, and relative paths of a config file resolved against its directory (the
# failed --resume and Ctrl-C cases are in integ_run.sh), and `rldt bench ingest` starting its
# learner (a config the learner refuses once left it measuring nothing).
# Prints "integ_cli: N passed, N failed".
dc_name=integ_cli
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, free_ports, dc_bins and dc_finish
py=/usr/bin/python3
dc_workdir # RLDT_ROOT, bin, T (the current directory), rldt

# ---- version and help ----
v=$("$rldt" --version)
check "rldt --version prints the version ($v)" eval 'echo "$v" | grep -Eq "^rldt [0-9]+\.[0-9]+\.[0-9]+$"'
"$rldt" dataset-info --help >h1
check "dataset-info --help lists --json and no eval keys" \
    eval 'grep -q -- "--json" h1 && ! grep -q -- "--episodes" h1 && ! grep -q -- "--policy" h1'
"$rldt" collect --help >h2
check "collect --help lists --out, --force, --policy but no run/learner keys" \
    eval 'grep -q -- "--force" h2 && grep -q -- "--policy" h2 && ! grep -Eq -- "--(actors|resume|run-dir|algo)" h2'
"$rldt" eval --help >h3
check "eval --help lists --episodes but not --collect-steps or --actors" \
    eval 'grep -q -- "--episodes" h3 && ! grep -Eq -- "--(collect-steps|actors|out)=" h3'

# ---- collect keeps an existing dataset; dataset-info n/a; --json escaped ----
"$rldt" collect --policy=random --env=hopper --steps=5 --num-envs=1 --out='a"b.dset' >out 2>&1
check "collect writes a dataset with a quote in its name" test -s 'a"b.dset'
cp 'a"b.dset' keep.dset
"$rldt" collect --policy=random --env=hopper --steps=30 --num-envs=1 --out='a"b.dset' >err 2>&1
rc=$?
check "collect refuses to overwrite it without --force (exit $rc: $(cat err))" \
    eval '[ $rc = 2 ] && grep -q "exists (--force" err && cmp -s keep.dset "a\"b.dset"'
"$rldt" collect --policy=random --env=hopper --steps=30 --num-envs=1 --out='a"b.dset' --force \
    >/dev/null 2>&1
check "... and replaces it with --force" eval '! cmp -s keep.dset "a\"b.dset"'
"$rldt" dataset-info keep.dset >info.txt
check "dataset-info without a complete episode prints n/a ($(grep return info.txt))" \
    eval 'grep -q "^return  n/a" info.txt && ! grep -q "mean 0.00" info.txt'
"$rldt" dataset-info keep.dset --json >info.json
check "... and JSON null" $py -c '
import json; d = json.load(open("info.json"))
assert d["complete"] == 0 and d["return_mean"] is None and d["length_mean"] is None, d'
"$rldt" dataset-info 'a"b.dset' --json >q.json
check "dataset-info --json escapes a quote in the path ($(cat q.json | head -c 60))" $py -c '
import json; d = json.load(open("q.json")); assert d["file"] == "a\"b.dset", d'
"$rldt" eval --env=hopper --policy=random --episodes=1 --num-envs=1 --json >e.json
check "eval --json is valid JSON" $py -c '
import json; d = json.load(open("e.json")); assert d["episodes"] == 1 and d["policy"] == "random"'

# ---- plot ----
mkdir run && printf 'wall_s,env_steps,policy_version,return_mean,return_std,length_mean\n1,100,1,5,1,10\n2,200,2,6,1,10\n' >run/eval.csv
"$rldt" plot run --out=x.svg >err 2>&1
rc=$?
check "plot --out=x.svg is refused, not written as PNG (exit $rc: $(cat err))" \
    eval '[ $rc = 2 ] && [ ! -e x.svg ] && grep -q "only PNG" err'
# ---- rldt run: what would fail is reported before any process starts ----
p=$(free_ports 4)
ports="--control-port=$p --data-port=$((p + 1)) --params-port=$((p + 2))"
"$rldt" run $ports --stats=256.0.0.1:$((p + 3)) --run-dir=r1 >err 2>&1
rc=$?
check "a bad --stats address is refused at once (exit $rc: $(head -n 1 err))" \
    eval '[ $rc = 2 ] && grep -q "stats address" err && [ ! -e r1 ]'
"$rldt" run $ports --stats=127.0.0.1:$((p + 3)) --algo=rldt --base-policy=missing.rldt \
    --run-dir=r2 >err 2>&1
rc=$?
check "a missing base policy is refused at once (exit $rc: $(head -n 1 err))" \
    eval '[ $rc = 2 ] && grep -q "base_policy .*missing.rldt" err && [ ! -e r2 ]'

# ---- relative paths in a config file resolve against the file's directory ----
mkdir -p cfgdir/sub && printf '[rldt]\nbase_policy = sub/base.rldt\n[eval]\npolicy = random\n' \
    >cfgdir/my.ini
"$rldt" config --config=cfgdir/my.ini >resolved.ini 2>err
check "base_policy in cfgdir/my.ini becomes $T/cfgdir/sub/base.rldt" \
    grep -q "^base_policy = $T/cfgdir/sub/base.rldt$" resolved.ini
check "... while policy = random stays a name" grep -q "^policy = random$" resolved.ini
(cd / && "$rldt" config --config="$RLDT_ROOT/deploy/configs/rldt-cpu.ini" >"$T/cpu.ini")
bp=$(sed -n 's/^base_policy = //p' cpu.ini)
check "deploy/configs/rldt-cpu.ini names an existing base policy from any directory ($bp)" \
    test -s "$bp"

# ---- bench ingest: its learner starts and stores what the senders send ----
dc_ports
"$rldt" bench ingest --secs=2 --actors=1 --replay-size=100000 $ports >ingest.txt 2>ingest.err
rc=$?
check "bench ingest runs (exit $rc: $(grep -v '^ *[0-9.]* learner' ingest.err | head -n 1))" \
    test "$rc" = 0
check "... and its learner stored segments ($(grep '^ingest:' ingest.txt))" \
    grep -Eq '^ingest: [1-9][0-9]* chunk steps/s stored' ingest.txt
dc_finish
