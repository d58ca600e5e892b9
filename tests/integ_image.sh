#!/bin/bash
# integ_image.sh — the container image as a user builds and runs it: `make image`
# (deploy/scripts/image.sh: podman, a Debian base made by debootstrap, no registry) builds
# deploy/Dockerfile; a learner and an actor started from the image on the host network, with
# CURVE keys from `rldt keygen` mounted read-only as documented (chowned to the image's user
# 10001:10001, the k8s manifests' ids), train to a checkpoint in a mounted run directory.
# Skips (with the reason) where podman or debootstrap is missing or we are not root. The first
# build takes minutes (tests/run.sh gives this test IMAGE_TIMEOUT, default 1800 s); the podman
# store (10+ GB with the vfs driver) is removed afterwards unless RLDT_KEEP_IMAGE=1. Prints "integ_image: N passed, N failed".
dc_name=integ_image
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, free_ports, dc_bins and dc_finish
if [ "${BUILD:-build}" != build ]; then # e.g. make san's build-san: nothing of it enters the image
    echo "skipped: the image compiles its own binaries; BUILD=$BUILD is not what it tests"
    dc_finish
fi
dc_bins
if [ "$(id -u)" != 0 ] || ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null ||
    ! command -v runc >/dev/null; then
    echo "skipped: the image test needs root, podman, runc and debootstrap (uid $(id -u);" \
        "podman: $(command -v podman || echo missing); runc: $(command -v runc || echo missing);" \
        "debootstrap: $(command -v debootstrap || echo missing))"
    dc_finish
fi
store=$RLDT_ROOT/build/image/storage # image.sh's podman store (its layer cache)
# podman's vfs driver stores a full copy of the tree per layer: one build of the image took
# 10-13 GB here. Refuse to fill the disk (a full disk fails every other test as well).
mkdir -p "$RLDT_ROOT/build/image"
need_gb=${IMAGE_MIN_FREE_GB:-20}
free_gb=$(df -P -B1G "$RLDT_ROOT/build/image" | awk 'NR == 2 { print $4 }')
if [ ! -d "$store" ] && [ "${free_gb:-0}" -lt "$need_gb" ]; then
    echo "skipped: building the image needs ${need_gb} GB free for podman's vfs store, " \
        "${free_gb} GB free under build/ (IMAGE_MIN_FREE_GB sets the bound)"
    dc_finish
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/rldt-image.XXXXXX")
pod="podman --root=$store --runroot=$store.run --storage-driver=vfs --cgroup-manager=cgroupfs"
run_opts="--runtime=runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 --network=host"
tag=rldt:integ
cleanup() {
    $pod rm -f -t 1 rldt-integ-learner-$$ rldt-integ-actor-$$ >/dev/null 2>&1
    rm -rf "$T"
    # the store is many GB: kept only when asked (RLDT_KEEP_IMAGE=1 reuses its layer cache)
    if [ "${RLDT_KEEP_IMAGE:-0}" != 1 ]; then
        $pod rmi -a -f >/dev/null 2>&1
        rm -rf "$store" "$store.run"
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT # a time-out (run.sh's TERM) still removes the store

PODMAN_ROOT=$store nice -n 10 "$RLDT_ROOT/deploy/scripts/image.sh" "$tag" >"$T/build.log" 2>&1
rc=$?
check "the image builds without a registry (status $rc$([ $rc != 0 ] && tail -n 5 "$T/build.log" | tr '\n' ' '))" \
    test $rc = 0
[ $rc = 0 ] || dc_finish
ids=$($pod run --rm $run_opts "$tag" sh -c 'id -u; id -g' 2>&1 | tr '\n' ' ')
check "the image runs as uid 10001, gid 10001 (the k8s ids; got $ids)" test "$ids" = "10001 10001 "
check "the binaries start in the image" $pod run --rm $run_opts "$tag" rldt --version

# keys as documented: keygen (a 0700 directory), chown to the image's user, mount read-only
"$bin/rldt" keygen --out="$T/keys" --name=learner >/dev/null &&
    "$bin/rldt" keygen --out="$T/keys" --name=actor >/dev/null &&
    cp "$T/keys/actor.pub" "$T/keys/allow.txt" && chown -R 10001:10001 "$T/keys"
mkdir -p "$T/runs" && chown 10001:10001 "$T/runs"
p=$(free_ports 4)
net="--bind-host=127.0.0.1 --learner-host=127.0.0.1 --control-port=$p --data-port=$((p + 1))
     --params-port=$((p + 2))"
tiny="--algo=sac --env=hopper --num-envs=2 --sac-hidden=32 --warmup-steps=300 --min-replay=300
      --segment-len=32 --checkpoint-secs=2 --max-env-steps=100000000 --seed=3"
# shellcheck disable=SC2086
$pod run -d --name rldt-integ-learner-$$ $run_opts -v "$T/runs:/runs" \
    -v "$T/keys:/etc/rldt/keys:ro" "$tag" rldt-learner $net $tiny --run-dir=/runs/r \
    --stats=127.0.0.1:$((p + 3)) --auth=curve --curve-server-key=/etc/rldt/keys/learner.key \
    --curve-allow=/etc/rldt/keys/allow.txt >"$T/learner.id" 2>&1
check "the learner container starts ($(head -c 200 "$T/learner.id"))" test $? = 0
# shellcheck disable=SC2086
$pod run -d --name rldt-integ-actor-$$ $run_opts -v "$T/keys:/etc/rldt/keys:ro" "$tag" \
    rldt-actor $net --num-envs=2 --auth=curve --curve-server-key=/etc/rldt/keys/learner.pub \
    --curve-client-key=/etc/rldt/keys/actor.key >"$T/actor.id" 2>&1
check "the actor container starts ($(head -c 200 "$T/actor.id"))" test $? = 0
for _ in $(seq 1 240); do
    ls "$T"/runs/r/checkpoints/ckpt-*.rldt >/dev/null 2>&1 && break
    sleep 0.5
done
check "learner and actor train to a checkpoint in the mounted run directory" \
    eval 'ls "$T"/runs/r/checkpoints/ckpt-*.rldt >/dev/null 2>&1'
if ! ls "$T"/runs/r/checkpoints/ckpt-*.rldt >/dev/null 2>&1; then
    $pod logs rldt-integ-learner-$$ 2>&1 | tail -n 15 | sed 's/^/    learner: /'
    $pod logs rldt-integ-actor-$$ 2>&1 | tail -n 10 | sed 's/^/    actor: /'
fi
check "the checkpoint is the image user's (10001:10001)" \
    eval '[ "$(stat -c %u:%g "$(ls "$T"/runs/r/checkpoints/ckpt-*.rldt | head -n 1)")" = 10001:10001 ]'
dc_finish
