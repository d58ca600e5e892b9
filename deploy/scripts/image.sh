#!/bin/sh
# image.sh — build the rldt container image (deploy/Dockerfile) with podman, or docker when
# podman is absent, without any registry: the Debian 12 base image is made here
# (debootstrap --variant=minbase, imported as debian:12 and tagged debian:12-slim) unless it
# exists already, and the build never pulls (--pull=never). Runs as root (debootstrap, podman's
# vfs storage). usage: deploy/scripts/image.sh [TAG]   (default rldt:latest; MIRROR=... for
# another Debian mirror; WORK=... for the work directory, default build/image)
set -eu
tag=${1:-rldt:latest}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${WORK:-$root/build/image}
mirror=${MIRROR:-http://deb.debian.org/debian}
# podman keeps this image in its own store (vfs driver: works without overlay support) under
# build/image, apart from any other podman use of the machine; PODMAN_ROOT=... to choose it.
# Use it with the same flags, e.g. `podman --root=build/image/storage --storage-driver=vfs run`;
# on the development machine running needed `--cgroup-manager=cgroupfs` and `run --runtime=runc
# --ulimit nofile=20000:20000 --ulimit nproc=4096:4096` (tests/integ_image.sh does so).
store=${PODMAN_ROOT:-$work/storage}
if command -v podman >/dev/null 2>&1; then
    engine="podman --root=$store --runroot=$store.run --storage-driver=vfs"
    build_opts="--isolation=chroot --pull=never"
elif command -v docker >/dev/null 2>&1; then
    engine=docker
    build_opts="--pull=false"
else
    echo "image.sh: neither podman nor docker is installed" >&2
    exit 1
fi
if ! $engine image exists debian:12 2>/dev/null && ! $engine image inspect debian:12 >/dev/null 2>&1; then
    if [ ! -e "$work/rootfs.done" ]; then
        echo "image.sh: making the debian:12 base image with debootstrap ($mirror)" >&2
        rm -rf "$work/rootfs"
        mkdir -p "$work"
        debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" \
            >"$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
        rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
        touch "$work/rootfs.done"
    fi
    tar -C "$work/rootfs" -c . | $engine import - debian:12
    rm -rf "$work/rootfs" "$work/rootfs.done"
fi
$engine tag debian:12 debian:12-slim
# shellcheck disable=SC2086
$engine build $build_opts -f "$root/deploy/Dockerfile" -t "$tag" "$root"
echo "image.sh: built $tag" >&2
