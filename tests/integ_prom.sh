#!/bin/bash
# integ_prom.sh — the learner's /metrics as Prometheus sees it: `promtool check metrics` is clean
# on a training SAC learner and a training RLDT learner (their algorithm scalars included),
# rldt_build_info carries the version `rldt --version` prints, and Debian's prometheus server
# scrapes a learner and answers a query for one of its metrics through its HTTP API.
# Prints "integ_prom: N passed, N failed".
dc_name=integ_prom
. "$(dirname "$0")/deploy_check.sh" # check / ok / bad, free_ports, dc_bins and dc_finish
dc_bins
for t in promtool prometheus curl; do
    if ! command -v $t >/dev/null; then
        bad "$t is installed (make deps: prometheus, curl)"
        dc_finish
    fi
done
T=$(mktemp -d "${TMPDIR:-/tmp}/rldt-prom.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
ver=$("$bin/rldt" --version | sed 's/^rldt //')

# start_run NAME FLAGS...: rldt run in the background; sets port (stats) and pid
start_run() {
    local name=$1
    shift
    local p
    p=$(free_ports 4)
    port=$((p + 3))
    "$bin/rldt" run --control-port=$p --data-port=$((p + 1)) --params-port=$((p + 2)) \
        --stats=127.0.0.1:$port --run-dir="$T/$name" --actors=1 --num-envs=2 --eval-every=0 \
        --max-env-steps=100000000 --metrics-secs=1 --segment-len=32 "$@" >"$T/$name.out" 2>&1 &
    pid=$!
    pids="$pids $pid"
}

# wait_metric PORT NAME OUT: until /metrics holds a sample of NAME (90 s), saved to OUT
wait_metric() {
    for _ in $(seq 1 180); do
        curl -s "127.0.0.1:$1/metrics" >"$3" 2>/dev/null && grep -q "^$2 " "$3" && return 0
        sleep 0.5
    done
    return 1
}

start_run rldt --algo=rldt --env=hopper --min-replay=300 --warmup-steps=300 \
    --base-policy="$RLDT_ROOT/deploy/policies/hopper.rldt"
check "an RLDT learner reports its algorithm scalars" \
    wait_metric $port rldt_scalar_svgd_alpha "$T/rldt.prom"
promtool check metrics <"$T/rldt.prom" >"$T/rldt.lint" 2>&1
check "promtool check metrics is clean on RLDT ($(head -c 300 "$T/rldt.lint"))" \
    eval '[ ! -s "$T/rldt.lint" ]'
check "... and its step counts are counters" \
    grep -q "^# TYPE rldt_scalar_critic_steps_total counter$" "$T/rldt.prom"
kill $pid 2>/dev/null # one learner at a time on 2 cores
wait $pid 2>/dev/null

start_run sac --algo=sac --env=hopper --sac-hidden=32 --warmup-steps=300 --min-replay=300
sac_port=$port
check "a SAC learner reports its algorithm scalars" \
    wait_metric $sac_port rldt_scalar_critic_loss "$T/sac.prom"
promtool check metrics <"$T/sac.prom" >"$T/sac.lint" 2>&1
check "promtool check metrics is clean on SAC ($(head -c 300 "$T/sac.lint"))" \
    eval '[ ! -s "$T/sac.lint" ]'
check "rldt_build_info carries version $ver" grep -q "^rldt_build_info{version=\"$ver\"} 1$" "$T/sac.prom"
check "process memory and CPU metrics are there" \
    eval 'grep -q "^process_resident_memory_bytes [1-9]" "$T/sac.prom" && grep -q "^process_cpu_seconds_total " "$T/sac.prom"'
check "durations are spelled in seconds" eval '! grep -q "_secs" "$T/sac.prom"'
check "/stats names the version" eval 'curl -s 127.0.0.1:$sac_port/stats | grep -q "\"rldt_version\":\"$ver\""'

# ---- Debian's prometheus server scrapes the SAC learner ----
pp=$(free_ports 1)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: rldt
    static_configs:
      - targets: ['127.0.0.1:$sac_port']
YML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address=127.0.0.1:$pp >"$T/prometheus.log" 2>&1 &
pids="$pids $!"
got=""
for _ in $(seq 1 60); do
    got=$(curl -s "127.0.0.1:$pp/api/v1/query?query=rldt_env_steps_total" 2>/dev/null)
    echo "$got" | grep -q '"value":\[[0-9.]*,"[1-9]' && break
    sleep 1
done
check "prometheus scraped the learner: rldt_env_steps_total > 0 ($(echo "$got" | head -c 200))" \
    eval 'echo "$got" | grep -q "\"value\":\[[0-9.]*,\"[1-9]"'
up=$(curl -s "127.0.0.1:$pp/api/v1/query?query=up" 2>/dev/null)
check "... and the target is up" eval 'echo "$up" | grep -q "\"value\":\[[0-9.]*,\"1\"\]"'
dc_finish
