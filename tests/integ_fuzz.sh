#!/bin/bash
# integ_fuzz.sh — a short smoke of every libFuzzer target (tests/fuzz/fuzz_*.c) in make test:
# builds them with clang (ASan + UBSan + libFuzzer) into $BUILD-fuzz (FUZZ_BUILD=...), runs
# each once over its committed seeds (tests/fuzz/seeds/, which hold the regression inputs of
# past findings) and the seeds gen_seeds writes with today's encoders, then fuzzes each for
# FUZZ_SMOKE_SECS seconds (default 3) from a throw-away corpus. Any crash, sanitizer report or
# failed property is a failure. Skipped, saying why, only when clang with libFuzzer is missing
# and cannot be installed here (not root); `make fuzz` is the long run.
# test-timeout: 900
dc_name=integ_fuzz
RLDT_ROOT=${RLDT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
. "$RLDT_ROOT/tests/deploy_check.sh"
BUILD=${BUILD:-build}
fb=${FUZZ_BUILD:-${BUILD%/}-fuzz}
case $fb in /*) ;; *) fb=$RLDT_ROOT/$fb ;; esac
secs=${FUZZ_SMOKE_SECS:-3}
T=$(mktemp -d "${TMPDIR:-/tmp}/rldt-fuzz.XXXXXX")
trap 'rm -rf "$T"' EXIT

# clang with the libFuzzer runtime (packages clang, libclang-rt-14-dev)
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
    'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
    >"$T/probe.c"
if ! clang -fsanitize=fuzzer,address "$T/probe.c" -o "$T/probe" 2>"$T/probe.err"; then
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
        echo "skipped: clang with libFuzzer is not installed and cannot be installed here" \
            "(not root, no sudo): apt-get install clang libclang-rt-14-dev"
        dc_finish
    fi
    bad "clang builds a libFuzzer target (clang, libclang-rt-14-dev: run make deps): $(head -n 1 "$T/probe.err")"
    dc_finish
fi

flags="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
if ! make -C "$RLDT_ROOT" --no-print-directory -j2 BUILD="$fb" CC=clang CFLAGS="$flags" \
    fuzz-bins >"$T/build.log" 2>&1; then
    tail -n 20 "$T/build.log"
    bad "the fuzz targets build with clang"
    dc_finish
fi
ok "the fuzz targets build with clang"
check "gen_seeds writes seeds with today's encoders" "$fb/fuzz/gen_seeds" "$T/fresh"

# run_target NAME: the seeds once, then a short fuzzing run; both must exit 0
run_target() {
    local t=$1 exe="$fb/fuzz/fuzz_$1" dirs=() s d n
    for s in $t $([ "$t" = ckpt ] && echo replay dataset); do
        for d in "$RLDT_ROOT/tests/fuzz/seeds/$s" "$T/fresh/$s"; do [ -d "$d" ] && dirs+=("$d"); done
    done
    n=$(find "${dirs[@]}" -type f | wc -l)
    mkdir -p "$T/out-$t" # libFuzzer may add inputs to its first directory: never a committed one
    if "$exe" -runs=0 -artifact_prefix="$T/$t-" "$T/out-$t" "${dirs[@]}" >"$T/$t.seeds.log" 2>&1 &&
        grep -q 'INITED\|Done' "$T/$t.seeds.log"; then
        ok "fuzz_$t: the seeds run clean ($n inputs)"
    else
        bad "fuzz_$t: the seeds run clean"
        grep -E 'ERROR|runtime error|fuzz finding|SUMMARY' "$T/$t.seeds.log" | head -n 5
    fi
    mkdir -p "$T/corpus-$t"
    "$exe" -max_total_time="$secs" -print_final_stats=1 -timeout=60 -artifact_prefix="$T/$t-" \
        "$T/corpus-$t" "${dirs[@]}" >"$T/$t.log" 2>&1
    local rc=$? execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/$t.log" | tail -n 1)
    if [ $rc -eq 0 ] && [ "${execs:-0}" -ge 100 ]; then
        ok "fuzz_$t: ${secs}s of fuzzing, $execs executions, no finding"
    else
        bad "fuzz_$t: ${secs}s of fuzzing without a finding (exit $rc, ${execs:-0} executions)"
        grep -E 'ERROR|runtime error|fuzz finding|SUMMARY' "$T/$t.log" | head -n 5
    fi
}

targets=$(cd "$RLDT_ROOT/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
for t in $targets; do
    run_target "$t"
done
dc_finish
