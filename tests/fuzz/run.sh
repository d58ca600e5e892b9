#!/bin/sh
# Run the libFuzzer targets built by `make fuzz` (build-fuzz/fuzz/fuzz_*), FUZZ_SECS seconds each
# (or FUZZ_RUNS executions each, when set), starting from the committed seeds
# (tests/fuzz/seeds/<t>) plus seeds freshly written by gen_seeds with today's encoders.
# New corpus inputs go to $BUILD/corpus/<t>, crashes to $BUILD/findings/.
# Prints one line per target: executions, execs/s, corpus size, findings; exits 1 on a finding.
# Usage: tests/fuzz/run.sh [target ...]   (names without the fuzz_ prefix; default: all)
BUILD=${BUILD:-build-fuzz}
SECS=${FUZZ_SECS:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin="$root/$BUILD/fuzz"
[ -x "$bin/gen_seeds" ] || { echo "fuzz: $bin/gen_seeds missing: run make fuzz"; exit 2; }
fresh=$(mktemp -d "$root/$BUILD/seeds.XXXXXX") || exit 2
trap 'rm -rf "$fresh"' EXIT
"$bin/gen_seeds" "$fresh" || { echo "fuzz: gen_seeds failed"; exit 1; }
mkdir -p "$root/$BUILD/findings"
targets=$*
[ -n "$targets" ] || targets=$(cd "$bin" && ls fuzz_* | sed 's/^fuzz_//')
# seed directories of a target (the container reader also gets every container kind)
seeds_of() {
    case "$1" in
    ckpt) set -- ckpt replay dataset ;;
    esac
    for s in "$@"; do
        for d in "$here/seeds/$s" "$fresh/$s"; do [ -d "$d" ] && echo "$d"; done
    done
}
bad=0
for t in $targets; do
    exe="$bin/fuzz_$t"
    [ -x "$exe" ] || { echo "fuzz_$t: no such target"; bad=1; continue; }
    corpus="$root/$BUILD/corpus/$t"
    mkdir -p "$corpus"
    log="$root/$BUILD/fuzz_$t.log"
    if [ -n "${FUZZ_RUNS:-}" ]; then limit="-runs=$FUZZ_RUNS"; else limit="-max_total_time=$SECS"; fi
    # shellcheck disable=SC2046
    "$exe" "$limit" -print_final_stats=1 -timeout=60 -rss_limit_mb=2048 \
        -artifact_prefix="$root/$BUILD/findings/$t-" "$corpus" $(seeds_of "$t") >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    units=$(ls "$corpus" | wc -l)
    # crash-, leak-, timeout-, oom- inputs are findings; slow-unit- ones (over 10 s, e.g. on a
    # loaded machine) are kept but are not
    findings=$(ls "$root/$BUILD/findings" | grep "^$t-" | grep -vc "^$t-slow-unit-")
    slow=$(ls "$root/$BUILD/findings" | grep -c "^$t-slow-unit-")
    echo "fuzz_$t: ${execs:-0} executions, ${speed:-0} exec/s, corpus $units, findings $findings, slow units $slow (exit $rc)"
    if [ $rc -ne 0 ]; then
        bad=1
        grep -E 'ERROR|runtime error|fuzz finding|SUMMARY|#[0-9]+ ' "$log" | head -n 20 | sed 's/^/    /'
    fi
done
exit $bad
