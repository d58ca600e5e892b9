#!/bin/bash
# integ_compose.sh — offline checks of deploy/docker-compose.yml and deploy/Dockerfile (no
# Docker engine runs here): `docker-compose config -q` accepts the file; every service command
# is our binary with flags and a config file it accepts (the file as mounted from deploy/);
# actors reach the learner by its service name on the learner's ports and can be scaled (no
# container_name, no host ports); the stats port is published on the host's loopback; runs
# go to a writable volume; key files named by the configs are on read-only mounts; the
# Dockerfile's runtime packages provide every library the binaries link, and what it copies
# exists and passes its .dockerignore. Then the checker must reject broken copies.
# Prints "integ_compose: N passed, N failed".
set -u
dc_name=integ_compose
. "$(dirname "$0")/deploy_check.sh"
dc_init
dc_yaml_selftest
if ! command -v docker-compose >/dev/null 2>&1; then
    bad "docker-compose is installed (Debian package docker-compose: make deps)"
    sed 's/ libuv1 / /' "$deploy/Dockerfile" >"$T/Dockerfile.bad"
out=$(dockerfile_check "$T/Dockerfile.bad" | grep -m 1 '^FAIL.*missing: libuv.so.1(libuv1)')
check "rejects a Dockerfile without libuv1: ${out#FAIL }" test -n "$out"
dc_finish
fi
deploy=$RLDT_ROOT/deploy

sget() { awk -F'\t' -v p="$1" '$2 == p { print $3; exit }' "$flat"; }
slist() { awk -F'\t' -v p="$1" 'index($2, p) == 1 && substr($2, length(p) + 1) ~ /^[0-9]+\]$/ {
    print $3 }' "$flat"; }
# vol_for SERVICE PATH: "SOURCE REST MODE" for the volume holding PATH inside the container
vol_for() {
    local v src dst mode
    while IFS= read -r v; do
        IFS=: read -r src dst mode <<<"$v"
        case $2 in "$dst"/*)
            echo "$src ${2#"$dst"/} ${mode:-rw}"
            return
            ;;
        esac
    done < <(slist ".services.$1.volumes[")
}

# compose_check FILE: all checks on one compose file (relative paths resolve from deploy/)
compose_check() {
    local file=$1 before=$dc_failed svc
    flat=$T/compose.flat
    if ! docker-compose -f "$file" --project-directory "$deploy" config >"$T/resolved.yml" \
        2>"$T/dc.err"; then
        bad "docker-compose config accepts $(basename "$file"): $(cat "$T/dc.err")"
        return 1
    fi
    ok "docker-compose config accepts $(basename "$file")"
    if ! "$yamlflat" "$T/resolved.yml" >"$flat"; then
        bad "the resolved compose file parses"
        return 1
    fi
    for svc in learner actor; do
        check "service $svc exists" test -n "$(sget ".services.$svc.image")"
        compose_check_service "$svc" || return 1
    done
    local lini=$T/resolved-learner.ini aini=$T/resolved-actor.ini key port
    check "actors' learner_host is the learner service" \
        test "$(ini_get "$aini" learner_host)" = learner
    for key in control_port data_port params_port; do
        check "actors use the learner's $key ($(ini_get "$lini" "$key"))" \
            test "$(ini_get "$aini" "$key")" = "$(ini_get "$lini" "$key")"
    done
    check "the learner binds all interfaces" test "$(ini_get "$lini" bind_host)" = "*"
    port=$(ini_get "$lini" stats)
    check "the learner's stats socket ($port) listens on all container interfaces" \
        test "${port%:*}" = 0.0.0.0
    check "the stats port is published on the host's loopback only" \
        test "$(slist .services.learner.ports[)" = "127.0.0.1:${port##*:}:${port##*:}/tcp"
    check "actors scale: no container_name, no published ports" \
        test -z "$(sget .services.actor.container_name)$(slist .services.actor.ports[)"
    local rd
    rd=$(ini_get "$lini" run_dir)
    read -r src _ mode <<<"$(vol_for learner "$rd")"
    check "the run directory $rd is on a writable volume ($src)" test "$mode" = rw
    [ "$dc_failed" -eq "$before" ]
}

# compose_check_service SVC: command, config mapping, key files
compose_check_service() {
    local svc=$1 argv=() a src rest mode mapped=() cfgs=() n=0
    mapfile -t argv < <(slist ".services.$svc.command[")
    if [ ${#argv[@]} -eq 0 ]; then
        bad "$svc: command is a list (exec form)"
        return 1
    fi
    mapped=("${argv[0]}")
    for a in "${argv[@]:1}"; do
        case $a in --config=*)
            read -r src rest mode <<<"$(vol_for "$svc" "${a#--config=}")"
            if [ -z "$src" ] || [ ! -f "$src/$rest" ]; then
                bad "$svc: ${a#--config=} is a file of a mounted directory"
                return 1
            fi
            check "$svc: ${a#--config=} is mounted read-only from ${src#"$RLDT_ROOT"/}/$rest" \
                test "$mode" = ro
            cfgs+=("$src/$rest")
            a="--config=$src/$rest"
            ;;
        esac
        mapped+=("$a")
    done
    dc_check_argv "$svc" "${mapped[@]}" || return 1
    local f key path
    for f in "${cfgs[@]}"; do
        while read -r key path; do
            read -r src rest mode <<<"$(vol_for "$svc" "$path")"
            check "$svc: $key $path is on a read-only mount ($src)" test "$mode" = ro
        done < <(dc_key_files "$f")
    done
}

# ---- the Dockerfile ------------------------------------------------------------------------
dockerfile_check() { # dockerfile_check FILE
    local df=$1 pkgs lib path pkg missing="" src n
    # packages the final stage installs (the apt-get install after the last FROM)
    pkgs=$(awk '/^FROM /{ s = "" } { s = s " " $0 } END { print s }' "$df" | sed 's/\\//g' |
        tr ' ' '\n' | awk '/^install$/ { on = 1; next } on && /^(&&|;)$/ { on = 0 }
            on && /^[a-z0-9][a-z0-9.+-]+$/ { print }')
    check "the Dockerfile's last stage installs runtime packages" test -n "$pkgs"
    # the libraries the binaries link, each with its path and that path resolved
    ldconfig -p >"$T/ldconfig"
    for p in rldt rldt-learner rldt-actor; do
        readelf -d "$bin/$p" | awk '/NEEDED/ { gsub(/[][]/, "", $5); print $5 }'
    done | sort -u | while read -r lib; do
        path=$(awk -v l="$lib" '$1 == l { print $NF; exit }' "$T/ldconfig")
        echo "$lib ${path:-none} $(readlink -f "${path:-none}")"
    done >"$T/libs"
    # one dpkg query for all paths: "package:arch: path" lines
    dpkg -S $(awk '{ print $2, $3 }' "$T/libs") 2>/dev/null | sed 's/:[^:]*: / /' >"$T/owners"
    while read -r lib path real; do
        pkg=$(awk -v a="$path" -v b="$real" '$2 == a || $2 == b { print $1; exit }' "$T/owners")
        case $pkg in
        libc6) ;; # in every Debian image
        libasan[0-9]* | libubsan[0-9]* | libtsan[0-9]* | liblsan[0-9]*) ;; # sanitizer runtimes (make san)
        '') missing="$missing $lib(no package)" ;;
        *) echo "$pkgs" | grep -qx "$pkg" || missing="$missing $lib($pkg)" ;;
        esac
    done <"$T/libs"
    n=$(wc -l <"$T/libs")
    check "the runtime packages provide the $n libraries the binaries link${missing:+ \
(missing:$missing)}" \
        test -z "$missing"
    # COPY sources exist and are not filtered out by the Dockerfile's .dockerignore
    for src in $(awk '/^COPY / && !/--from/ { for (i = 2; i < NF; i++) print $i }' "$df"); do
        check "Dockerfile COPY $src exists and passes Dockerfile.dockerignore" \
            eval '[ -e "$RLDT_ROOT/$src" ] && awk -v s="$src" '"'"'substr($0, 1, 1) == "!" &&
                (s == substr($0, 2) || index(s, substr($0, 2) "/") == 1) { f = 1 }
                END { exit !f }'"'"' "$deploy/Dockerfile.dockerignore"'
    done
    check "deploy/packages.txt has the '## test-only' marker the Dockerfile cuts at" \
        grep -q '^## test-only' "$deploy/packages.txt"
}

# ---- the real files ------------------------------------------------------------------------
check "docker-compose -f deploy/docker-compose.yml config -q" \
    docker-compose -f "$deploy/docker-compose.yml" config -q
compose_check "$deploy/docker-compose.yml"
dockerfile_check "$deploy/Dockerfile"
RLDT_UID=1234 RLDT_RUN=x docker-compose -f "$deploy/docker-compose.yml" config >"$T/vars.yml" \
    2>/dev/null && "$yamlflat" "$T/vars.yml" >"$T/vars.flat"
check "variables reach the resolved file (RLDT_UID, RLDT_RUN)" eval \
    'grep -qx -e "0	.services.learner.user	1234:0" "$T/vars.flat" &&
        grep -qx -e "0	.services.learner.command\[4\]	--run-dir=/runs/x" "$T/vars.flat"'

# ---- the checker must reject broken copies -------------------------------------------------
reject() { # reject NAME SED-EXPR PATTERN: a copy edited so must fail with PATTERN
    local name=$1 expr=$2 pat=$3 out
    sed -e "$expr" "$deploy/docker-compose.yml" >"$T/bad.yml"
    if cmp -s "$T/bad.yml" "$deploy/docker-compose.yml"; then
        bad "rejects $name (the edit '$expr' changed nothing)"
        return
    fi
    out=$(
        dc_passed=0
        dc_failed=0
        compose_check "$T/bad.yml" 2>&1
    )
    dc_rejected "$name" "$pat" "$out"
}
reject "an unknown learner flag" 's/- --resume/- --resumee/' "unknown key 'resumee'"
reject "a bad value" 's/- --resume/- --resume=maybe/' "resume: "
reject "actors aimed at another host" 's/--learner-host=learner/--learner-host=lerner/' \
    "learner_host is the learner service"
reject "a fixed actor container name" 's/^  actor:$/  actor:\n    container_name: a1/' \
    'actors scale'
reject "keys mounted writable" 's|/etc/rldt/keys:ro|/etc/rldt/keys|' 'read-only mount'
reject "a YAML error" 's/^services:/services: [/' 'config accepts'
sed 's/ libuv1 / /' "$deploy/Dockerfile" >"$T/Dockerfile.bad"
out=$(dockerfile_check "$T/Dockerfile.bad" | grep -m 1 '^FAIL.*missing: libuv.so.1(libuv1)')
check "rejects a Dockerfile without libuv1: ${out#FAIL }" test -n "$out"
dc_finish
