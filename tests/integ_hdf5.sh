#!/bin/bash
# integ_hdf5.sh — `rldt dataset-import` / `dataset-export` against files written and read by
# h5py (Debian's python3-h5py): a D4RL-layout file imports with the right counts, an exported
# dataset reads back in h5py with the same values (D4RL and Minari layouts), a collected dataset
# survives a Minari round trip unchanged, and bad files get a clear error without touching an
# existing output. Prints "integ_hdf5: N passed, N failed".
dc_name=integ_hdf5
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, dc_bins and dc_finish
dc_bins
py=/usr/bin/python3
if ! $py -c 'import h5py, numpy' 2>/dev/null; then
    bad "python3-h5py is installed (make deps)"
    dc_finish
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/rldt-hdf5.XXXXXX")
trap 'rm -rf "$T"' EXIT
rldt=$bin/rldt
cd "$T" || exit 1

# ---- a D4RL file from h5py: 25 hopper steps, a terminated, a timed-out and a cut episode ----
$py - <<'PY'
import h5py, numpy as np
rng = np.random.default_rng(3)
n, O, A = 25, 11, 3
obs = rng.standard_normal((n, O)).astype(np.float32)
nxt = rng.standard_normal((n, O)).astype(np.float32)
nxt[:-1] = obs[1:]
act = rng.uniform(-1, 1, (n, A)).astype(np.float32)
rew = rng.standard_normal(n).astype(np.float32)
term = np.zeros(n, bool); term[9] = True
tout = np.zeros(n, bool); tout[19] = True
with h5py.File("d4rl.hdf5", "w") as f:
    for k, v in dict(observations=obs, actions=act, rewards=rew, terminals=term,
                     timeouts=tout, next_observations=nxt).items():
        f[k] = v
np.savez("d4rl.npz", obs=obs, nxt=nxt, act=act, rew=rew, term=term, tout=tout)
# the bad files: each one defect
def bad(name, **change):
    d = dict(observations=obs, actions=act, rewards=rew, terminals=term, timeouts=tout)
    d.update(change)
    with h5py.File(name, "w") as f:
        for k, v in d.items():
            if v is not None:
                f[k] = v
bad("nokey.hdf5", rewards=None)
bad("short.hdf5", actions=act[:-1])
o = obs.copy(); o[7, 2] = np.nan
bad("nan.hdf5", observations=o)
bad("flag2.hdf5", terminals=np.where(term, 2, 0).astype(np.int32))
bad("dims.hdf5", observations=obs[:, :10])
bad("floatflags.hdf5", terminals=term.astype(np.float32), timeouts=tout.astype(np.float64))
PY
check "h5py wrote the test files" test -s d4rl.hdf5

"$rldt" dataset-import d4rl.hdf5 --env=hopper --out=d4rl.dset >out 2>&1
check "a D4RL file imports (exit $?)" test -s d4rl.dset
"$rldt" dataset-info d4rl.dset --json >info.json 2>&1
check "dataset-info counts 25 steps, 3 episodes: 1 terminated, 1 time limit, 1 cut" \
    grep -q '"steps":25,"episodes":3,"complete":2,"terminated":1,"timelimit":1,"cut":1' info.json
check "... and the mean return of the complete episodes" $py -c '
import json, numpy as np
z = np.load("d4rl.npz"); r = z["rew"].astype(np.float64)
got = json.load(open("info.json"))["return_mean"]
assert abs(got - (r[:10].sum() + r[10:20].sum()) / 2) < 1e-5, got
'
check "float 0/1 flags are accepted too" \
    "$rldt" dataset-import floatflags.hdf5 --env=hopper --out=ff.dset

# ---- export: D4RL and Minari read back in h5py with the same values ----
"$rldt" dataset-export d4rl.dset --out=back.hdf5 >out 2>&1
check "export in D4RL layout (exit $?)" test -s back.hdf5
check "h5py reads the D4RL export with the same values (cut episode: a timeout)" $py -c '
import h5py, numpy as np
z = np.load("d4rl.npz")
with h5py.File("back.hdf5", "r") as f:
    assert f.attrs["env"] == "hopper"
    assert f["terminals"].dtype == bool and f["timeouts"].dtype == bool
    for k, w in [("observations", "obs"), ("actions", "act"), ("rewards", "rew"),
                 ("next_observations", "nxt"), ("terminals", "term")]:
        assert np.array_equal(f[k][()], z[w]), k
    t = z["tout"].copy(); t[-1] = True
    assert np.array_equal(f["timeouts"][()], t)
'
"$rldt" dataset-export d4rl.dset --out=minari.hdf5 --layout=minari >out 2>&1
check "export in Minari layout (exit $?)" test -s minari.hdf5
check "h5py reads the Minari export: 3 episodes, T+1 observations, flags on the last step" $py -c '
import h5py, numpy as np
z = np.load("d4rl.npz")
with h5py.File("minari.hdf5", "r") as f:
    assert f.attrs["total_episodes"] == 3 and f.attrs["total_steps"] == 25
    for e, (s, t) in enumerate([(0, 10), (10, 20), (20, 25)]):
        g = f["episode_%d" % e]
        assert g["observations"].shape == (t - s + 1, 11)
        assert np.array_equal(g["observations"][:-1], z["obs"][s:t])
        assert np.array_equal(g["observations"][-1], z["nxt"][t - 1])
        assert np.array_equal(g["actions"][()], z["act"][s:t])
        assert np.array_equal(g["rewards"][()], z["rew"][s:t])
        assert g["terminations"][()].tolist() == [False] * (t - s - 1) + [e == 0]
        assert g["truncations"][()].tolist() == [False] * (t - s - 1) + [e == 1]
'
"$rldt" dataset-import minari.hdf5 --out=m.dset >out 2>&1
check "the Minari file imports, the task from its env attribute (exit $?)" test -s m.dset
"$rldt" dataset-info m.dset --json | sed 's/"file":"[^"]*"//' >m.json
sed 's/"file":"[^"]*"//' info.json >d.json
check "... with the same summary as the D4RL import (cut episode kept)" cmp -s m.json d.json

# ---- a collected dataset survives a Minari round trip ----
"$rldt" collect --policy=random --env=walker2d --steps=600 --num-envs=3 --out=c.dset >out 2>&1
check "collect writes a walker2d dataset" test -s c.dset
"$rldt" dataset-export c.dset --out=c.hdf5 --layout=minari >/dev/null 2>&1 &&
    "$rldt" dataset-import c.hdf5 --out=c2.dset >/dev/null 2>&1
check "export + import of a collected dataset succeed" test -s c2.dset
"$rldt" dataset-info c.dset --json | sed 's/"file":"[^"]*"//' >c.json
"$rldt" dataset-info c2.dset --json | sed 's/"file":"[^"]*"//' >c2.json
check "... and dataset-info of both agrees: $(cat c2.json)" cmp -s c.json c2.json
"$rldt" dataset-export c.dset --out=c1.hdf5 >/dev/null 2>&1
"$rldt" dataset-export c2.dset --out=c2.hdf5 >/dev/null 2>&1
check "... and the two D4RL exports hold the same arrays" $py -c '
import h5py, numpy as np
with h5py.File("c1.hdf5", "r") as a, h5py.File("c2.hdf5", "r") as b:
    for k in a:
        assert np.array_equal(a[k][()], b[k][()]), k
    assert a["observations"].shape == (600, 17)
'

# ---- bad input: a clear error, exit 1, an existing output kept ----
cp d4rl.dset keep.dset
refuse() { # refuse FILE PATTERN [ARGS]: import fails naming the defect, keep.dset unchanged
    local f=$1 pat=$2
    shift 2
    "$rldt" dataset-import "$f" --env=hopper --out=keep.dset --force "$@" >err 2>&1
    local rc=$?
    check "$f is refused: $(head -c 160 err)" eval "test $rc = 1 && grep -q \"$pat\" err"
    check "... and the existing output is untouched" cmp -s keep.dset d4rl.dset
}
refuse nokey.hdf5 "missing key 'rewards'"
refuse short.hdf5 "'actions' has shape (24, 3), expected (25, 3)"
refuse nan.hdf5 "'observations' holds a non-finite value at row 7"
refuse flag2.hdf5 "'terminals' holds 2 at row 9"
refuse dims.hdf5 "'observations' has shape (25, 10), expected (25, 11)"
refuse d4rl.npz "not an HDF5 file"
"$rldt" dataset-import d4rl.hdf5 --out=x.dset >err 2>&1
check "a file without an env attribute needs --env ($(cat err))" grep -q "pass --env=TASK" err
"$rldt" dataset-import d4rl.hdf5 --env=hopper --out=keep.dset >err 2>&1
check "an existing output is kept without --force ($(cat err))" grep -q "exists (--force" err
"$rldt" dataset-export d4rl.dset --out=back.hdf5 >err 2>&1
check "... for export too" grep -q "exists (--force" err
"$rldt" dataset-export d4rl.dset --out=back.hdf5 --layout=csv >err 2>&1
check "an unknown layout is a usage error ($(cat err))" grep -q "not one of d4rl|minari" err
dc_finish
