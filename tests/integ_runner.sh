#!/bin/bash
# integ_runner.sh — the rules of tests/run.sh, on a copy of it beside made-up tests in a temp
# tree: a test that ran zero checks passes as skipped only when it says why, and fails
# otherwise; a skip is listed on the "skipped:" line before the total; a crash after a clean
# summary, a missing summary and a time-out each count as a failure; the exit status follows
# the total. Prints "integ_runner: N passed, N failed".
dc_name=integ_runner
RLDT_ROOT=${RLDT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
. "$RLDT_ROOT/tests/deploy_check.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/rldt-runner.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/tests" "$T/b/tests"
cp "$RLDT_ROOT/tests/run.sh" "$T/tests/run.sh"

# fake NAME BODY: a test script NAME in the copy's tests/ directory
fake() {
    printf '#!/bin/sh\n%s\n' "$2" >"$T/tests/$1"
    chmod +x "$T/tests/$1"
}
fake integ_good.sh 'echo "good: 3 passed, 0 failed"'
fake integ_why.sh 'echo "skipped: not root"; echo "why: 0 passed, 0 failed"'
fake integ_silent.sh 'echo "silent: 0 passed, 0 failed"'
fake integ_crash.sh 'echo "crash: 2 passed, 0 failed"; exit 3'
fake integ_nosum.sh 'echo "no summary at all"'
fake integ_slow.sh 'sleep 30; echo "slow: 1 passed, 0 failed"'

out=$T/out
BUILD=b TEST_TIMEOUT=2 TEST_TIMEOUT_SCALE=1 sh "$T/tests/run.sh" >"$out" 2>&1 # (not make san's 3)
rc=$?
sed 's/^/    /' "$out"
has() { grep -qF -- "$1" "$out"; }
check "a passing test is ok" has "ok   integ_good.sh: 3 passed"
check "zero checks with a reason is a skip" has "skip integ_why.sh: not root"
check "zero checks without a reason fails" \
    has "FAIL integ_silent.sh (ran zero checks and did not say why it skipped)"
check "a non-zero exit after a clean summary fails" has "FAIL integ_crash.sh (exit 3 after summary)"
check "a missing summary fails" has "FAIL integ_nosum.sh (exit 0, no summary)"
check "a time-out fails" has "FAIL integ_slow.sh (timed out after 2s)"
check "the skipped line names the skip" has "skipped: 1 (integ_why.sh)"
# passed: good 3 + crash 2; failed: silent, crash, nosum, slow
check "the total counts them" eval '[ "$(tail -n 1 "$out")" = "total: 5 passed, 4 failed" ]'
check "the exit status is a failure ($rc)" test "$rc" -ne 0

# only passes and reasoned skips: exit 0
rm "$T/tests/integ_silent.sh" "$T/tests/integ_crash.sh" "$T/tests/integ_nosum.sh" \
    "$T/tests/integ_slow.sh"
BUILD=b sh "$T/tests/run.sh" >"$out" 2>&1
rc=$?
check "passes and a reasoned skip exit 0 ($rc)" test "$rc" -eq 0
check "... with the skip still listed" has "skipped: 1 (integ_why.sh)"
dc_finish
