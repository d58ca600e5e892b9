#!/bin/sh
# integ_netns.sh — a run across a real network interface with CURVE on: the learner in one
# network namespace, two actors (and one with a key the learner does not allow) in another,
# joined by a veth pair on the private test subnet 10.213.7.0/24 that exists only inside the
# two namespaces this script creates and deletes (trap on exit). Needs root and namespaces
# the kernel lets us create; without them it says why and is skipped. Without `ip` (iproute2,
# in deploy/packages.txt) it fails. Prints "integ_netns: N passed, N failed".
name=integ_netns
root=${RLDT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
bin=$root/${BUILD:-build}
passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
    what=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   $what"
    else
        failed=$((failed + 1))
        echo "FAIL $what"
    fi
}
skip() {
    echo "skipped: $1"
    echo "$name: 0 passed, 0 failed"
    exit 0
}

[ "$(id -u)" = 0 ] || skip "not root (network namespaces need root)"
# iproute2 is in deploy/packages.txt: a missing `ip` is a failure (make deps), not a skip
command -v ip >/dev/null 2>&1 || { echo "FAIL ip is installed (iproute2: run make deps)"; echo "$name: 0 passed, 1 failed"; exit 1; }
for b in rldt rldt-learner rldt-actor; do
    [ -x "$bin/$b" ] || { echo "missing $bin/$b"; echo "$name: 0 passed, 1 failed"; exit 1; }
done

nsl=rldt-l-$$
nsa=rldt-a-$$
vl=rlvl$$
va=rlva$$
ipl=10.213.7.1
ipa=10.213.7.2
tmp=$(mktemp -d /tmp/rldt-netns-XXXXXX)
pids=""
cleanup() {
    for p in $pids; do
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    ip netns del "$nsl" 2>/dev/null
    ip netns del "$nsa" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$nsl" 2>"$tmp/err" || skip "ip netns add failed: $(cat "$tmp/err")"
ip netns add "$nsa" || skip "ip netns add failed"
ip link add "$vl" type veth peer name "$va" 2>"$tmp/err" || skip "no veth: $(cat "$tmp/err")"
{ ip link set "$vl" netns "$nsl" && ip link set "$va" netns "$nsa" &&
    ip -n "$nsl" addr add "$ipl/24" dev "$vl" && ip -n "$nsa" addr add "$ipa/24" dev "$va" &&
    ip -n "$nsl" link set lo up && ip -n "$nsa" link set lo up &&
    ip -n "$nsl" link set "$vl" up && ip -n "$nsa" link set "$va" up; } 2>"$tmp/err"
check "veth pair $ipl <-> $ipa between namespaces" [ $? -eq 0 ]
# nothing below can work without the pair: say why and stop
[ $failed -eq 0 ] || { sed 's/^/    /' "$tmp/err"; echo "$name: $passed passed, $failed failed"; exit 1; }

# keys: the learner's, two allowed actors', one never allowed
keys=$tmp/keys
for k in learner actor1 actor2 stranger; do
    "$bin/rldt" keygen --out="$keys" --name=$k >/dev/null || echo "keygen $k failed"
done
cat "$keys/actor1.pub" "$keys/actor2.pub" >"$keys/allow.txt"
check "keygen wrote a private key file" [ "$(stat -c %a "$keys/actor1.key")" = 600 ]

run="--algo=sac --env=hopper --chunk=1 --sac-hidden=32 --num-envs=2 --min-replay=200
     --warmup-steps=200 --batch-size=64 --publish-every=5 --checkpoint-secs=1
     --heartbeat-secs=0.2 --segment-len=16 --updates-per-step=0.5 --log-level=info
     --auth=curve --curve-server-key=$keys/learner.key"
# shellcheck disable=SC2086
ip netns exec "$nsl" "$bin/rldt-learner" $run --bind-host=$ipl --stats=127.0.0.1:5558 \
    --curve-allow="$keys/allow.txt" --max-env-steps=4000 --run-dir="$tmp/run" \
    >"$tmp/learner.log" 2>&1 &
learner=$!
pids="$learner"
actor_args="--learner-host=$ipl --num-envs=2 --heartbeat-secs=0.2 --log-level=info --auth=curve
            --curve-server-key=$keys/learner.pub"
for k in actor1 actor2 stranger; do
    # shellcheck disable=SC2086
    ip netns exec "$nsa" "$bin/rldt-actor" $actor_args --curve-client-key="$keys/$k.key" \
        --actor-name=$k >"$tmp/$k.log" 2>&1 &
    pids="$pids $!"
    eval "pid_$k=$!"
done

# wait (at most 90 s) for the learner to finish the run
wait_gone() { # wait_gone PID SECONDS
    n=0
    while kill -0 "$1" 2>/dev/null && [ $n -lt $(($2 * 10)) ]; do
        sleep 0.1
        n=$((n + 1))
    done
    ! kill -0 "$1" 2>/dev/null
}
# reap PID after wait_gone; its exit status, or 124 when it had to be killed
reap() {
    wait_gone "$1" "$2" || kill -9 "$1" 2>/dev/null
    wait "$1"
}
check "learner finished within 90 s" wait_gone "$learner" 90
reap "$learner" 1
check "learner exit 0" [ $? -eq 0 ]
check "learner reached max_env_steps" grep -q "reached max_env_steps=4000" "$tmp/learner.log"
check "a checkpoint exists" sh -c "ls '$tmp'/run/checkpoints/ckpt-*.rldt >/dev/null 2>&1"
check "learner bound its veth address" grep -q "sockets $ipl:" "$tmp/learner.log"
for k in actor1 actor2; do
    eval "p=\$pid_$k"
    check "$k finished" wait_gone "$p" 15
    reap "$p" 1
    check "$k exit 0" [ $? -eq 0 ]
    check "$k registered over the veth" grep -q "registered as actor" "$tmp/$k.log"
done
check "the stranger never registered" sh -c "! grep -q 'registered as actor' '$tmp/stranger.log'"
check "the learner refused the stranger from $ipa" grep -q "auth: refused a client from $ipa" \
    "$tmp/learner.log"
# shellcheck disable=SC2154 # assigned by eval above
kill -TERM "$pid_stranger" 2>/dev/null
check "the stranger stops on SIGTERM" wait_gone "$pid_stranger" 10
# the experience crossed the interface: 4000 env steps carry at least 4000 x 11 float32
# observations (176 kB) to the learner's end
rx=$(ip -n "$nsl" -s -j link show "$vl" 2>/dev/null |
    sed -n 's/.*"rx":{"bytes":\([0-9]*\).*/\1/p')
check "learner's veth received ${rx:-?} bytes (> 176000)" [ "${rx:-0}" -gt 176000 ]

if [ $failed -ne 0 ]; then
    for f in learner actor1 actor2 stranger; do
        echo "--- $f.log"
        tail -n 15 "$tmp/$f.log"
    done
fi
echo "$name: $passed passed, $failed failed"
[ $failed -eq 0 ]
