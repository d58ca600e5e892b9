# deploy_check.sh — shared by the tests/integ_*.sh scripts (sourced, bash):
# check counters and summary, a temp dir removed on exit, tests/yamlflat.c built into it, and
# the container-command check: a command's binary must be one of ours and the binary must
# accept its flags and config file (`BIN FLAGS --help` exits 0; an unknown key exits 2), and
# `rldt config FLAGS` must resolve them (the values the checks compare). Binaries built
# without the CURVE keys (`auth`, `curve_*`) get the config files with those lines removed,
# and a note says so; when `rldt-learner --help` lists --auth, the files are checked whole.

dc_passed=0
dc_failed=0
dc_name=${dc_name:-deploy}

# stretch SECONDS: a time-out of a command under test, times TEST_TIMEOUT_SCALE (make san: 3)
stretch() { echo $(($1 * ${TEST_TIMEOUT_SCALE:-1})); }
ok() { dc_passed=$((dc_passed + 1)); echo "ok   $1"; }
bad() { dc_failed=$((dc_failed + 1)); echo "FAIL $1"; }
check() { # check NAME COMMAND...: one check, passes when the command succeeds
    local _what=$1
    shift
    if "$@"; then ok "$_what"; else bad "$_what"; fi
}
# free_ports N: the first of N consecutive free loopback ports (one answering on 127.0.0.1 is
# taken), from a random start
free_ports() {
    local p i
    for _ in $(seq 1 50); do
        p=$((10000 + RANDOM % 22000)) # below Linux's ephemeral range (32768-60999): no clash with outgoing connections
        for i in $(seq 0 $(($1 - 1))); do
            (exec 3<>"/dev/tcp/127.0.0.1/$((p + i))") 2>/dev/null && continue 2
        done
        echo "$p"
        return
    done
    echo "free_ports: no $1 free consecutive loopback ports found in 50 tries" >&2
    echo 24680
}
dc_finish() {
    echo "$dc_name: $dc_passed passed, $dc_failed failed"
    [ "$dc_failed" -eq 0 ]
    exit $?
}

# dc_rejected NAME PATTERN OUTPUT: ok when OUTPUT (what a checker printed on a broken copy) has
# a FAIL line matching PATTERN; otherwise a failure that lists its FAIL lines
dc_rejected() {
    local hit
    hit=$(echo "$3" | grep "^FAIL" | grep -m 1 -- "$2")
    if [ -n "$hit" ]; then
        ok "rejects $1: ${hit#FAIL }"
    else
        bad "rejects $1 (no FAIL matching '$2')"
        echo "$3" | grep '^FAIL' | sed 's/^/    /'
    fi
}

# dc_bins: RLDT_ROOT and bin (the binaries, each checked to be built)
dc_bins() {
    RLDT_ROOT=${RLDT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
    BUILD=${BUILD:-build}
    case $BUILD in /*) bin=$BUILD ;; *) bin=$RLDT_ROOT/$BUILD ;; esac
    local p
    for p in rldt rldt-learner rldt-actor; do
        if [ ! -x "$bin/$p" ]; then
            bad "$bin/$p is built (make BUILD=$BUILD all)"
            dc_finish
        fi
    done
}

# dc_tmp: dc_bins; tmp, a fresh temp dir, and traps: on exit the script's own dc_stop (when it defines
# one: kill the processes it started), then any process still running from $tmp/, and the dir
# is removed (KEEP=1 leaves it for inspection); INT and TERM exit 1
dc_tmp() {
    dc_bins
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/rldt-$dc_name.XXXXXX")
    trap dc_cleanup EXIT
    trap 'exit 1' INT TERM
}
dc_cleanup() {
    [ -n "${KEEP:-}" ] && { echo "kept $tmp"; return; }
    declare -F dc_stop >/dev/null && dc_stop
    pkill -9 -f "$tmp/" 2>/dev/null
    rm -rf "$tmp"
}

# dc_workdir: dc_bins, then T (a temp dir, removed on exit) as the current directory, and rldt
# (the command-line tool)
dc_workdir() {
    dc_bins
    T=$(mktemp -d "${TMPDIR:-/tmp}/rldt-$dc_name.XXXXXX")
    trap 'rm -rf "$T"' EXIT
    rldt=$bin/rldt
    cd "$T" || exit 1
}

# dc_ports: p, the first of four free loopback ports, and ports, the learner's four port flags
dc_ports() {
    p=$(free_ports 4)
    ports="--control-port=$p --data-port=$((p + 1)) --params-port=$((p + 2)) --stats=127.0.0.1:$((p + 3))"
}

# dc_init: dc_bins, T (temp dir, removed on exit), yamlflat (built)
dc_init() {
    dc_bins
    T=$(mktemp -d "${TMPDIR:-/tmp}/rldt-$dc_name.XXXXXX")
    trap 'rm -rf "$T"' EXIT
    yamlflat=$T/yamlflat
    if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 \
        -o "$yamlflat" "$RLDT_ROOT/tests/yamlflat.c" -lyaml; then
        bad "tests/yamlflat.c builds (needs libyaml-dev: make deps)"
        dc_finish
    fi
    # RLDT_CHECK_AUTH=1 forces the full check (0: never), default: ask the binary
    dc_auth_known=${RLDT_CHECK_AUTH:-}
    if [ -z "$dc_auth_known" ] && "$bin/rldt-learner" --help | grep -q -- '--auth='; then
        dc_auth_known=1
    elif [ -z "$dc_auth_known" ] || [ "$dc_auth_known" = 0 ]; then
        dc_auth_known=0
        echo "note: the binaries have no auth/curve_* keys yet: config files are checked" \
            "without those lines"
    fi
}

# dc_yaml_selftest: the YAML flattener reports what the checks rely on
dc_yaml_selftest() {
    printf 'a:\n  b: [x, {c: "1"}]\n  "d.e": |\n    l1\n    l2\n' >"$T/self.yaml"
    check "yamlflat flattens paths, quoted keys and block scalars" \
        test "$("$yamlflat" "$T/self.yaml")" = \
        "$(printf '0\t.a.b[0]\tx\n0\t.a.b[1].c\t1\n0\t.a["d.e"]\tl1\\nl2\\n')"
    printf 'a: 1\nb: [1\n' >"$T/broken.yaml"
    printf 'a: 1\nb: 2\na: 3\n' >"$T/dup.yaml"
    check "yamlflat rejects a syntax error and a duplicate key" \
        eval '! "$yamlflat" "$T/broken.yaml" >/dev/null 2>&1 &&
            ! "$yamlflat" "$T/dup.yaml" >/dev/null 2>&1'
}

# dc_strip_auth FILE: print FILE without its auth/curve_* lines
dc_strip_auth() {
    sed -E '/^[[:space:]]*(auth|curve_[a-z_]+)[[:space:]]*=/d' "$1"
}

# ini_get FILE KEY: the value of `KEY = value` in an INI file (last one wins)
ini_get() {
    awk -v k="$2" '{ line = $0; sub(/^[ \t]+/, "", line) }
        index(line, k) == 1 { rest = substr(line, length(k) + 1)
            if (rest ~ /^[ \t]*=/) {
                sub(/^[ \t]*=[ \t]*/, "", rest)
                sub(/[ \t]+$/, "", rest)
                v = rest
            } }
        END { print v }' "$1"
}

# dc_key_files FILE: "KEY PATH" for every curve_* key file an INI file names
dc_key_files() {
    awk -F'[ \t]*=[ \t]*' '/^[ \t]*curve_[a-z_]+[ \t]*=/ {
        sub(/^[ \t]+/, "", $1)
        print $1, $2 }' "$1"
}

# dc_check_argv LABEL ARGV...: ARGV is a container's command with every --config=PATH already
# replaced by a local file. Checks the binary and its flags; on success leaves the resolved
# config in $T/resolved-LABEL.ini and returns 0.
dc_check_argv() {
    local label=$1 prog
    shift
    prog=$(basename -- "$1")
    shift
    case $prog in
    rldt-learner | rldt-actor) ;;
    *)
        bad "$label: runs rldt-learner or rldt-actor (got '$prog')"
        return 1
        ;;
    esac
    ok "$label: runs $prog"
    local a help=() plain=() n=0
    for a in "$@"; do
        case $a in
        --config=*)
            if [ "$dc_auth_known" -eq 0 ]; then
                n=$((n + 1))
                dc_strip_auth "${a#--config=}" >"$T/$label-plain-$n.ini"
                a="--config=$T/$label-plain-$n.ini"
            fi
            help+=("$a")
            plain+=("$a")
            ;;
        --config)
            bad "$label: write --config=PATH as one argument"
            return 1
            ;;
        *)
            help+=("$a")
            plain+=("$a")
            ;;
        esac
    done
    if ! "$bin/$prog" "${help[@]}" --help >/dev/null 2>"$T/$label.err"; then
        bad "$label: $prog accepts its flags and config: $(cat "$T/$label.err")"
        return 1
    fi
    ok "$label: $prog accepts its ${#help[@]} flags and config file(s)"
    if ! "$bin/rldt" config "${plain[@]}" >"$T/resolved-$label.ini" 2>"$T/$label.err"; then
        bad "$label: rldt config resolves them: $(cat "$T/$label.err")"
        return 1
    fi
    ok "$label: the configuration resolves"
    return 0
}
