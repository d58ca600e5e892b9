#!/bin/bash
# integ_onnx.sh — `rldt export` of every shipped state policy (deploy/policies/*.rldt; pixel
# policies are refused with the reason) to ONNX, in
# both variants (deterministic; noise inputs x0, xi): python3-onnx's checker accepts the files,
# and onnxruntime-web (npm, WASM backend, one thread, under Debian's nodejs) gives the action
# chunks `rldt act` gives (policy_act, what `rldt eval` runs) within 1e-5 on observations the
# policy itself visited. onnxruntime-web is installed once into $BUILD/onnxrt from the lockfile
# in tests/onnx/; when the npm registry cannot be reached the runtime checks are skipped with
# a note. Prints "integ_onnx: N passed, N failed".
dc_name=integ_onnx
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, dc_bins and dc_finish
dc_bins
py=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/rldt-onnx.XXXXXX")
trap 'rm -rf "$T"' EXIT
rldt=$bin/rldt
case $BUILD in /*) ort=$BUILD/onnxrt ;; *) ort=$RLDT_ROOT/$BUILD/onnxrt ;; esac

# ---- onnxruntime-web, from the committed lockfile (reused while the lockfile is unchanged) ----
have_ort=0
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    bad "node and npm are installed (Debian's nodejs, npm: make deps)"
elif cmp -s "$RLDT_ROOT/tests/onnx/package-lock.json" "$ort/package-lock.json" &&
    [ -d "$ort/node_modules/onnxruntime-web" ]; then
    have_ort=1
else
    rm -rf "$ort" && mkdir -p "$ort"
    cp "$RLDT_ROOT/tests/onnx/package.json" "$RLDT_ROOT/tests/onnx/package-lock.json" "$ort/"
    if (cd "$ort" && timeout 100 npm ci --no-audit --no-fund --ignore-scripts) >"$T/npm.log" 2>&1; then
        have_ort=1
    elif ! timeout 20 npm ping >/dev/null 2>&1; then
        echo "SKIP runtime checks: the npm registry is unreachable (npm ping failed), so" \
            "onnxruntime-web cannot be installed"
    else
        bad "npm ci installs onnxruntime-web: $(tail -n 3 "$T/npm.log")"
    fi
fi
[ $have_ort = 1 ] && cp "$RLDT_ROOT/tests/onnx/run.js" "$ort/run.js"

cd "$T" || exit 1
: >jobs.txt
exported=""
for p in "$RLDT_ROOT"/deploy/policies/*.rldt; do
    task=$(basename "$p" .rldt)
    # a pixel policy sees camera images: export refuses it with the reason, leaving no file
    if ! "$rldt" export --policy="$p" --out="$task.probe.onnx" >"$task.log" 2>&1 &&
        grep -q "a pixel policy" "$task.log"; then
        check "$task: export refuses a pixel policy, leaving no file ($(head -c 100 "$task.log"))" \
            test ! -e "$task.probe.onnx"
        continue
    fi
    exported="$exported $task"
    # observations the policy visits: collect, export as D4RL, read with h5py
    "$rldt" collect --policy="$p" --env="$task" --steps=48 --num-envs=2 --seed=3 \
        --out="$task.dset" >/dev/null 2>&1 &&
        "$rldt" dataset-export "$task.dset" --out="$task.hdf5" >/dev/null 2>&1 &&
        $py -c 'import h5py, numpy as np, sys
o = h5py.File(sys.argv[1], "r")["observations"][()]
np.savetxt(sys.argv[2], o, delimiter=",", fmt="%.9g")' "$task.hdf5" "$task.obs.csv"
    check "$task: 48 visited observations" test "$(wc -l <"$task.obs.csv")" = 48
    "$rldt" export --policy="$p" --out="$task.det.onnx" --deterministic >"$task.log" 2>&1
    check "$task: deterministic export: $(cat "$task.log")" grep -q "opset 17" "$task.log"
    "$rldt" export --policy="$p" --out="$task.noise.onnx" >"$task.log" 2>&1
    check "$task: noise-input export: $(cat "$task.log")" grep -q "noise inputs" "$task.log"
    check "$task: python3-onnx's checker accepts both files (full check)" $py -c '
import onnx, sys
for f in sys.argv[1:]:
    m = onnx.load(f)
    onnx.checker.check_model(m, full_check=True)
    assert m.opset_import[0].version == 17 and m.ir_version == 8
' "$task.det.onnx" "$task.noise.onnx"
    "$rldt" act --policy="$p" --deterministic "$task.obs.csv" >"$task.det.want" 2>"$task.err"
    check "$task: rldt act gives deterministic chunks $(cat "$task.err")" test -s "$task.det.want"
    "$rldt" act --policy="$p" --seed=11 "$task.obs.csv" >"$task.noise.all" 2>"$task.err"
    # columns: actions | x0 | xi (D each)
    $py -c 'import numpy as np, sys
a = np.loadtxt(sys.argv[1], delimiter=","); D = a.shape[1] // 3
for i, n in enumerate(["want", "x0", "xi"]):
    np.savetxt(sys.argv[2] + "." + n, a[:, i * D:(i + 1) * D], delimiter=",", fmt="%.9g")
' "$task.noise.all" "$task.noise"
    check "$task: rldt act gives stochastic chunks with their noise" test -s "$task.noise.xi"
    echo "$task.det.onnx $task.det.got obs=$task.obs.csv" >>jobs.txt
    echo "$task.noise.onnx $task.noise.got obs=$task.obs.csv x0=$task.noise.x0 xi=$task.noise.xi" \
        >>jobs.txt
done

if [ $have_ort = 1 ]; then
    node "$ort/run.js" jobs.txt >node.log 2>&1
    check "onnxruntime-web runs the $(wc -l <jobs.txt) models $(head -c 300 node.log)" test $? = 0
    for task in $exported; do
        for v in det noise; do
            diff=$($py -c 'import numpy as np, sys
a = np.loadtxt(sys.argv[1], delimiter=","); b = np.loadtxt(sys.argv[2], delimiter=",")
print("%.3g" % np.abs(a - b).max() if a.shape == b.shape else "shape %s vs %s" % (a.shape, b.shape))
' "$task.$v.want" "$task.$v.got" 2>&1 | tail -n 1)
            check "$task ($v): onnxruntime matches rldt act within 1e-5 (max diff $diff)" \
                $py -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 1e-5 else 1)' "$diff"
        done
    done
    check "the noise inputs change the actions (stochastic differs from deterministic)" $py -c '
import numpy as np
a = np.loadtxt("hopper.det.got", delimiter=","); b = np.loadtxt("hopper.noise.got", delimiter=",")
assert np.abs(a - b).max() > 1e-2'
fi

# ---- refusals ----
"$rldt" export --policy=missing.rldt --out=m.onnx >err 2>&1
rc=$?
check "a missing policy file is an error ($(head -c 120 err))" eval '[ $rc = 1 ] && [ ! -e m.onnx ]'
"$rldt" export --policy="$RLDT_ROOT/deploy/policies/hopper.rldt" --out=hopper.det.onnx >err 2>&1
check "an existing output is kept without --force ($(cat err))" grep -q "exists (--force" err
printf '1,2,3\n' >short.csv
"$rldt" act --policy="$RLDT_ROOT/deploy/policies/hopper.rldt" short.csv >err 2>&1
check "rldt act refuses a short observation row ($(cat err))" grep -q "expected 11 comma-separated" err
dc_finish
