#!/bin/bash
# integ_fleet.sh — `rldt bench fleet` at toy size (2 simulated actors, 1 s windows): it runs, the
# actors register and are heard, every segment sent is accepted (sent == accepted, nothing
# rejected), each broadcast reaches every actor, the raw reference is measured, and the table
# prints every figure. Speed is not checked here (that is what the bench prints).
# Prints "integ_fleet: N passed, N failed".
# test-timeout: 180
dc_name=integ_fleet
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, dc_bins and dc_finish
dc_bins # RLDT_ROOT, bin
tmp=$(mktemp -d /tmp/rldt-fleet-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

run() { # run OUT [flags]: the bench on four fresh loopback ports
    local out=$1 p
    shift
    p=$(free_ports 4)
    "$bin/rldt" bench fleet --actors=2 --secs=1.5 --publish-secs=0.5 --control-port="$p" --data-port=$((p + 1)) \
        --params-port=$((p + 2)) --stats=127.0.0.1:$((p + 3)) "$@" >"$out" 2>"$out.err"
}

run "$tmp/json" --json
rc=$?
check "rldt bench fleet --json runs (status $rc)" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/    /' "$tmp/json.err" | tail -n 20
py='import json, sys
d = json.load(open(sys.argv[1]))
want = sys.argv[2]
ok = {
 "registered": d["registered"] == 2 and d["alive"] == 2 and d["refused"] == 0,
 "counted": d["segments_sent"] > 0 and d["segments_sent"] == d["segments_accepted"]
            and d["segments_lost"] == 0 and d["messages_rejected"] == 0,
 "rate": d["segments_per_s"] > 0 and d["offered_segments_per_s"] > 0,
 "broadcast": d["broadcasts"] >= 1 and d["receipts"] == 2 * d["broadcasts"]
              and d["params_missed"] == 0 and d["broadcast_p99_ms"] > 0
              and d["params_bytes"] > 1000000,
 "raw": d["raw_broadcasts"] >= 1 and d["raw_p99_ms"] > 0,
 "heard": d["heartbeats"] > 0 and d["acks"] > 0 and d["bad_messages"] == 0,
 "cpu": d["learner_cores"] > 0 and d["learner_rss_mb"] > 0,
}[want]
sys.exit(0 if ok else 1)'
for what in registered counted rate broadcast raw heard cpu; do
    check "json: $what" python3 -c "$py" "$tmp/json" "$what"
done
[ "$dc_failed" = 0 ] || sed 's/^/    /' "$tmp/json"

run "$tmp/table"
check "the table runs (status $?)" test -s "$tmp/table"
for row in registered "broadcast latency" "raw zeromq broadcast" ingest "learner CPU" \
    "learner RSS" segments "params broadcasts" heartbeats; do
    check "the table has '$row'" grep -q "^$row " "$tmp/table"
done
check "the table says nothing was lost" grep -q "lost 0;" "$tmp/table"
dc_finish
