#!/bin/bash
# integ_exports.sh — no dead exports: every function or variable an object file of the build
# exports (nm: T, D, B, R) is used by another object file (nm: U), or by the example task
# plug-in (which calls the programs' own functions at run time). A name only its own file uses
# should be static; one nobody uses should go. Names starting with __ are the compiler's and
# the sanitizers' (ASan's __odr_asan.*), not ours. Needs a build ($BUILD/obj, make all).
# Prints "integ_exports: N passed, N failed".
set -u
dc_name=integ_exports
. "$(dirname "$0")/deploy_check.sh"
root=${RLDT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
obj=$root/${BUILD:-build}/obj
if ! command -v nm >/dev/null || [ ! -d "$obj" ]; then
    echo "skipped: needs nm and a build in $obj"
    dc_finish
fi
# "FILE<TAB>KIND<TAB>NAME" for every object except the generated protobuf code
list=$(find "$obj" -name '*.o' ! -path '*/gen/*' | sort | while read -r o; do
    nm "$o" 2>/dev/null | awk -v f="${o#"$obj"/}" 'NF == 3 && $2 ~ /^[TDBR]$/ { print f "\tdef\t" $3 }
        NF == 2 && $1 == "U" { print f "\tuse\t" $2 }'
done)
plugin=$root/tests/task_plugin_example.c
dead=$(echo "$list" | awk -F'\t' '
    $2 == "def" && $3 != "main" && $3 !~ /^(LLVMFuzzer|__)/ { def[$3] = $1 }
    $2 == "use" { users[$2 == "use" ? $3 : ""] = users[$3] " " $1 }
    END { for (s in def) { n = split(users[s], u, " "); ok = 0
            for (i = 1; i <= n; i++) if (u[i] != def[s]) ok = 1
            if (!ok) print def[s] ": " s } }' | sort | while read -r line; do
    grep -qw "${line##*: }" "$plugin" || echo "$line"
done)
ndefs=$(echo "$list" | grep -c "	def	")
check "the build's objects export $ndefs names" test "$ndefs" -gt 100
if [ -n "$dead" ]; then
    echo "$dead" | sed 's/^/  used by no other object: /'
fi
check "every exported name is used by another object ($(echo -n "$dead" | grep -c .) are not)" \
    test -z "$dead"
dc_finish
