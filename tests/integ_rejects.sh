#!/bin/bash
# integ_rejects.sh — the learner's one list of rejection reasons (enum learner_reject in
# learner/learner.h, named by learner_reject_names in learner/shared.c) holds no dead entry:
# every reason is produced by some learner source (a shared_reject call, the actor table's map
# in shared.c, or a function that returns the reason for its caller to count), and the names
# table has one name per reason. That /stats and /metrics show this list alike is checked by
# test_stats (test_reject_reasons). Prints "integ_rejects: N passed, N failed".
set -u
dc_name=integ_rejects
. "$(dirname "$0")/deploy_check.sh"
root=${RLDT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
hdr=$root/learner/learner.h

# the reasons: the enum's members between "enum learner_reject {" and REJECT_COUNT
reasons=$(sed -n '/^enum learner_reject {/,/REJECT_COUNT/p' "$hdr" | grep -o 'REJECT_[A-Z_]*' |
    grep -v '^REJECT_COUNT$')
n=$(echo "$reasons" | wc -l)
check "the enum lists reasons ($n)" test "$n" -gt 5

# names: the quoted strings of the table in shared.c
names=$(sed -n '/^const char \*const learner_reject_names/,/^};/p' "$root/learner/shared.c" |
    grep -o '"[a-z_]*"' | wc -l)
check "learner_reject_names has one name per reason ($names names, $n reasons)" test "$names" = "$n"

# produced: each reason is used in a learner source other than its declaration
for r in $reasons; do
    hits=$(grep -lw "$r" "$root"/learner/*.c "$root"/learner/algo/*.c 2>/dev/null | wc -l)
    check "$r is produced (used in $hits learner source(s))" test "$hits" -gt 0
done
dc_finish
