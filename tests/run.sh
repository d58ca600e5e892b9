#!/bin/sh
# Run every test binary under a time-out. A crash, a time-out, a non-zero exit or a missing
# summary line counts as one failure. Also runs tests/integ_*.sh scripts (same rules).
# A test that ran zero checks ("0 passed, 0 failed") is skipped if it printed a line
# "skipped: <why>" (or "<name>: skipped: <why>"), and a failure otherwise. Ends with
# "skipped: N (names)" and then "total: N passed, N failed". Time-out: TEST_TIMEOUT (120 s), or
# more for a script with a line "# test-timeout: SECONDS", times TEST_TIMEOUT_SCALE (an integer,
# default 1) for slow builds: `make san` sets 3, as sanitized code runs 2-3x slower. The scale is
# exported: tests stretch their own waits by it too (t_slow() in tests/harness.h).
# Usage: tests/run.sh [name-filter]
BUILD=${BUILD:-build}
TIMEOUT=${TEST_TIMEOUT:-120}
TEST_TIMEOUT_SCALE=${TEST_TIMEOUT_SCALE:-1}
case $TEST_TIMEOUT_SCALE in *[!0-9]* | 0) TEST_TIMEOUT_SCALE=1 ;; esac # unset, empty, bad: 1
export TEST_TIMEOUT_SCALE
filter=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
passed=0
failed=0
skipped=0
skipped_names=""
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$root/$BUILD"/tests/test_* "$here"/integ_*.sh; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    start=$(date +%s)
    # a script may ask for more time with a line "# test-timeout: SECONDS"
    limit=$TIMEOUT
    own=$(sed -n 's/^# test-timeout: *\([0-9][0-9]*\).*/\1/p' "$t" 2>/dev/null | head -n 1)
    [ -n "$own" ] && [ "$own" -gt "$limit" ] && limit=$own
    limit=$((limit * TEST_TIMEOUT_SCALE))
    [ "$name" = integ_image.sh ] && limit=${IMAGE_TIMEOUT:-1800} # a first image build is slow
    BUILD=$BUILD RLDT_ROOT="$root" timeout -k 5 "$limit" "$t" >"$out" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    line=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    if [ -z "$line" ]; then
        if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then why="timed out after ${limit}s"; else why="exit $rc, no summary"; fi
        echo "FAIL $name ($why)"
        sed 's/^/    /' "$out" | tail -n 30
        failed=$((failed + 1))
        continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/')
    f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/')
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1   # crashed or exited non-zero after printing a clean summary
        echo "FAIL $name (exit $rc after summary)"
    fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ $rc -eq 0 ]; then
        why=$(grep -E '^([A-Za-z0-9_.-]+: )?skipped: ' "$out" | head -n 1 | sed -E 's/^([A-Za-z0-9_.-]+: )?skipped: //')
        if [ -n "$why" ]; then
            echo "skip $name: $why"
            skipped=$((skipped + 1))
            skipped_names="$skipped_names $name"
            continue
        fi
        f=1
        echo "FAIL $name (ran zero checks and did not say why it skipped)"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        echo "FAIL $name: $p passed, $f failed (${secs}s)"
        grep -E 'FAIL|not ok|ERROR|runtime error|Sanitizer' "$out" | head -n 40 | sed 's/^/    /'
    else
        echo "ok   $name: $p passed (${secs}s)"
    fi
done
echo "skipped: $skipped${skipped_names:+ (${skipped_names# })}"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
