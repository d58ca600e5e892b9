#!/bin/sh
# minimal-debian-test.sh — does a fresh, minimal Debian 12 build and test rldt with nothing
# but deploy/packages.txt? Makes a `debootstrap --variant=minbase` root of bookworm, installs
# the package list into it with our own deploy/install-deps.sh, copies this source tree in
# (tracked and untracked files, no build outputs), builds it and runs tests/run.sh with the
# given filters inside the root as root (its own mount namespace: chroot with /dev, /proc,
# /sys; the host's network, so the network namespaces a test makes are real ones). A package
# missing from the list shows as a failed build or a failed (not skipped) test.
#
# usage (root): deploy/scripts/minimal-debian-test.sh [FILTER ...]
#   FILTER: tests/run.sh name filters, default "integ_netns"; "all" runs the whole suite
#   MIRROR=URL   Debian mirror (default http://deb.debian.org/debian)
#   WORK=DIR     where the root is made (default build/minimal-debian); deleted at the end
#                unless KEEP=1 (a kept root is reused by the next run, saving the download)
#   APT_CACHE=DIR  .deb cache shared with the root (bind mount; default the host's
#                /var/cache/apt/archives, so packages this host already fetched are not fetched
#                again; apt still checks each against the root's own package index); empty: none
# Prints the run.sh lines of each filter and ends with "minimal-debian: N passed, N failed"
# (passed/failed counted over the filters' run.sh totals; the build counts as one check).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${WORK:-$root/build/minimal-debian}
mirror=${MIRROR:-http://deb.debian.org/debian}
rootfs=$work/rootfs
[ "$(id -u)" = 0 ] || { echo "minimal-debian: needs root (debootstrap, chroot)" >&2; exit 2; }
for t in debootstrap unshare chroot tar; do
    command -v $t >/dev/null 2>&1 || { echo "minimal-debian: $t is missing" >&2; exit 2; }
done
[ $# -gt 0 ] || set -- integ_netns
mkdir -p "$work"
log=$work/log
: >"$log"
say() { echo "minimal-debian: $*" | tee -a "$log" >&2; }
done_all() {
    # never rm -rf through a mount point (a bind of /dev would take the host's device nodes)
    if grep -q " $rootfs/" /proc/mounts; then
        say "something is still mounted under $rootfs: not deleting it"
    elif [ "${KEEP:-0}" != 1 ]; then
        rm -rf "$rootfs"
    fi
    echo "minimal-debian: $1 passed, $2 failed"
    [ "$2" -eq 0 ]
    exit
}

if [ ! -e "$rootfs/.rldt-bootstrapped" ]; then
    rm -rf "$rootfs"
    say "debootstrap --variant=minbase bookworm ($mirror)"
    # in its own mount namespace: the /proc it mounts in the root goes away with it
    unshare --mount --propagation private \
        debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >>"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; say "debootstrap failed (log: $log)"; done_all 0 1; }
    echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
    # no package's maintainer script may start a service in the root
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 755 "$rootfs/usr/sbin/policy-rc.d"
    touch "$rootfs/.rldt-bootstrapped"
fi
cp /etc/resolv.conf "$rootfs/etc/resolv.conf" 2>/dev/null

# the source tree: tracked and untracked files that git does not ignore (no build outputs)
rm -rf "$rootfs/src" && mkdir -p "$rootfs/src"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
    tar --null -T - -cf -) | tar -C "$rootfs/src" -xf - ||
    { say "copying the source tree failed"; done_all 0 1; }

# inside: the package list, the build, then each filter; a fresh mount namespace whose mounts
# vanish with it (nothing is left mounted under the root that rm -rf could descend into). The
# root is bind-mounted onto itself first so that its / is a mount point: `ip netns exec` and
# `ip -n` remount / as a slave in their own namespace, which fails (EINVAL, "mount
# --make-rslave /") in a chroot whose / is a plain directory, and every netns step then fails.
cat >"$rootfs/src/.minimal-run.sh" <<'EOF'
#!/bin/sh
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
cd /src || exit 1
sh deploy/install-deps.sh || { echo "STEP install-deps failed"; exit 1; }
echo "STEP installed $(dpkg-query -W -f='${Package}\n' | wc -l) packages"
make -j2 all >/tmp/build.log 2>&1 || { tail -n 30 /tmp/build.log; echo "STEP build failed"; exit 1; }
echo "STEP build ok"
for f in "$@"; do
    [ "$f" = all ] && f=""
    echo "STEP run ${f:-all}"
    BUILD=build sh tests/run.sh "$f"
done
EOF
mkdir -p "$rootfs/run" "$rootfs/tmp"
say "installing deploy/packages.txt, building and testing inside (log: $log)"
cache=${APT_CACHE-/var/cache/apt/archives}
[ -d "$cache" ] || cache=""
unshare --mount --propagation private -- sh -c '
    r=$1 cache=$2; shift 2
    mount --bind "$r" "$r" && mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" && mount -t sysfs sys "$r/sys" &&
        mount -t tmpfs tmpfs "$r/run" || exit 1
    if [ -n "$cache" ]; then mount --bind "$cache" "$r/var/cache/apt/archives" || exit 1; fi
    exec chroot "$r" /bin/sh /src/.minimal-run.sh "$@"' sh "$rootfs" "$cache" "$@" >"$work/run.log" 2>&1
cat "$work/run.log" >>"$log"
grep -E '^(STEP|ok |FAIL|skip |skipped:|total:)|^    ' "$work/run.log"
grep -q '^STEP build ok' "$work/run.log" || done_all 0 1
p=1
f=0
for line in $(sed -n 's/^total: \([0-9]*\) passed, \([0-9]*\) failed$/\1:\2/p' "$work/run.log"); do
    p=$((p + ${line%:*}))
    f=$((f + ${line#*:}))
done
n=$(grep -c '^total: ' "$work/run.log")
[ "$n" -eq $# ] || f=$((f + $# - n)) # a filter whose run.sh never finished
done_all $p $f
