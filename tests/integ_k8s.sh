#!/bin/bash
# integ_k8s.sh — offline checks of the Kubernetes manifests in deploy/k8s (no API server
# exists here): every file parses (libyaml, via tests/yamlflat.c); every object has
# apiVersion, kind and metadata.name, unique per kind; Deployment selectors match their pod
# labels; the Service selects the learner's pods and its ports are the learner's sockets
# (control, data, params, stats as the learner's resolved config has them); volumes name
# existing ConfigMaps, Secrets and claims, and mounts name volumes; every container command
# is our binary with flags and a config file it accepts (the file taken from the ConfigMap);
# actors point at the Service with its ports; key files named in the config come from a
# mounted Secret holding only placeholders; the ConfigMap equals deploy/configs/*.ini.
# Then the checker must reject broken copies (bad flag, bad port, selector mismatch, edited
# config). Prints "integ_k8s: N passed, N failed".
set -u
dc_name=integ_k8s
. "$(dirname "$0")/deploy_check.sh"
dc_init
dc_yaml_selftest

# ---- the table: OBJ<TAB>PATH<TAB>VALUE, OBJ = FILE#DOC -----------------------------------
declare -A TV # the table as OBJ<TAB>PATH -> VALUE (lookups without a process)
tload() {
    local o p v
    TV=()
    while IFS=$'\t' read -r o p v; do TV["$o"$'\t'"$p"]=$v; done <"$tab"
}
tget() { printf '%s' "${TV["$1"$'\t'"$2"]-}"; }
tsub() { # tsub OBJ PREFIX: "SUFFIX<TAB>VALUE" for paths under PREFIX
    awk -F'\t' -v o="$1" -v p="$2" '$1 == o && index($2, p) == 1 {
        print substr($2, length(p) + 1) "\t" $3 }' "$tab"
}
objs() { awk -F'\t' -v k="$1" '$2 == ".kind" && $3 == k { print $1 }' "$tab"; }
obj_named() { # obj_named KIND NAME
    local o
    for o in $(objs "$1"); do [ "$(tget "$o" .metadata.name)" = "$2" ] && echo "$o"; done
}
keypath() { # the path component yamlflat prints for a mapping key
    case $1 in *[!A-Za-z0-9_-]* | '') printf '["%s"]' "$1" ;; *) printf '.%s' "$1" ;; esac
}
# labels_match OBJ_A PREFIX_A OBJ_B PREFIX_B: every label under A is in B with the same value
labels_match() {
    local a
    a=$(tsub "$1" "$2")
    [ -n "$a" ] || return 1
    [ -z "$(comm -23 <(echo "$a" | sort) <(tsub "$3" "$4" | sort))" ]
}
# pod-spec lookups: POD = the Deployment object; C = container index
vol_source() { # vol_source OBJ VOLNAME: "configMap NAME", "secret NAME" or "pvc NAME"
    local v=0 n
    while n=$(tget "$1" ".spec.template.spec.volumes[$v].name") && [ -n "$n" ]; do
        if [ "$n" = "$2" ]; then
            local base=".spec.template.spec.volumes[$v]" x
            x=$(tget "$1" "$base.configMap.name") && [ -n "$x" ] && echo "configMap $x" && return
            x=$(tget "$1" "$base.secret.secretName") && [ -n "$x" ] && echo "secret $x" && return
            x=$(tget "$1" "$base.persistentVolumeClaim.claimName") && [ -n "$x" ] &&
                echo "pvc $x" && return
            echo "other -"
            return
        fi
        v=$((v + 1))
    done
}
# mount_for OBJ C PATH: "VOLNAME REST" for the mount holding PATH (REST = path inside it)
mount_for() {
    local m=0 mp base=".spec.template.spec.containers[$2]"
    while mp=$(tget "$1" "$base.volumeMounts[$m].mountPath") && [ -n "$mp" ]; do
        case $3 in "$mp"/*)
            echo "$(tget "$1" "$base.volumeMounts[$m].name") ${3#"$mp"/}"
            return
            ;;
        esac
        m=$((m + 1))
    done
}
# object_file OBJ KEY: extract data[KEY] (or stringData[KEY]) of a ConfigMap/Secret to stdout
object_file() {
    local f=${1%#*} d=${1##*#} k
    k=$(keypath "$2")
    "$yamlflat" -g "$d" ".data$k" "$f" 2>/dev/null || "$yamlflat" -g "$d" ".stringData$k" "$f"
}

# ---- one directory of manifests ------------------------------------------------------------
k8s_check() {
    local dir=$1 before=$dc_failed f o
    tab=$T/table
    : >"$tab"
    for f in "$dir"/*.yaml; do
        if "$yamlflat" "$f" >"$T/flat" 2>"$T/flat.err"; then
            ok "$(basename "$f") parses"
            awk -F'\t' -v f="$f" '{ print f "#" $0 }' "$T/flat" >>"$tab"
        else
            bad "$(basename "$f") parses: $(cat "$T/flat.err")"
        fi
    done
    tload
    # every document: apiVersion, kind, metadata.name; names unique per kind
    for o in $(cut -f1 "$tab" | sort -u); do
        local what
        what="$(basename "${o%#*}") document ${o##*#}"
        local av kind name
        av=$(tget "$o" .apiVersion)
        kind=$(tget "$o" .kind)
        name=$(tget "$o" .metadata.name)
        check "$what has apiVersion, kind, metadata.name ($kind/$name)" \
            test -n "$av" -a -n "$kind" -a -n "$name"
    done
    check "object names are unique per kind" test -z "$(awk -F'\t' '$2 == ".kind" { k[$1] = $3 }
        $2 == ".metadata.name" { n[$1] = $3 } END { for (o in k) print k[o] "/" n[o] }' "$tab" |
        sort | uniq -d)"
    local deps
    deps=$(objs Deployment)
    check "there are Deployments" test -n "$deps"
    for o in $deps; do k8s_check_deployment "$o"; done
    k8s_check_service
    k8s_check_configmap "$dir"
    for o in $(objs Secret); do
        check "Secret $(tget "$o" .metadata.name) holds placeholders only" test -z "$(tsub "$o" "" |
            awk -F'\t' '$1 ~ /^\.(stringData|data)/ && $2 !~ /PLACEHOLDER/')"
    done
    [ "$dc_failed" -eq "$before" ]
}

k8s_check_deployment() {
    local o=$1 name c=0 n
    name=$(tget "$o" .metadata.name)
    check "Deployment $name: selector matches the pod labels" labels_match \
        "$o" .spec.selector.matchLabels "$o" .spec.template.metadata.labels
    check "Deployment $name: replicas set" test -n "$(tget "$o" .spec.replicas)"
    # volumes name existing objects; mounts name volumes
    local v=0 vn src kind ref
    while vn=$(tget "$o" ".spec.template.spec.volumes[$v].name") && [ -n "$vn" ]; do
        src=$(vol_source "$o" "$vn")
        kind=${src% *}
        ref=${src#* }
        case $kind in
        configMap) check "$name: volume $vn: ConfigMap $ref exists" \
            test -n "$(obj_named ConfigMap "$ref")" ;;
        secret) check "$name: volume $vn: Secret $ref exists" \
            test -n "$(obj_named Secret "$ref")" ;;
        pvc) check "$name: volume $vn: claim $ref exists" \
            test -n "$(obj_named PersistentVolumeClaim "$ref")" ;;
        esac
        v=$((v + 1))
    done
    while n=$(tget "$o" ".spec.template.spec.containers[$c].name") && [ -n "$n" ]; do
        k8s_check_container "$o" "$c" "$name/$n"
        c=$((c + 1))
    done
    check "Deployment $name: has containers" test "$c" -gt 0
}

k8s_check_container() {
    local o=$1 c=$2 label=$3 base=".spec.template.spec.containers[$2]" m=0 mn
    local safe=${3//\//-}
    while mn=$(tget "$o" "$base.volumeMounts[$m].name") && [ -n "$mn" ]; do
        check "$label: mount $mn names a pod volume" test -n "$(vol_source "$o" "$mn")"
        m=$((m + 1))
    done
    # the command: --config=PATH comes from a mounted ConfigMap
    local argv=() a mnt vol rest src cm n=0 cfgs=()
    while IFS= read -r a; do argv+=("$a"); done < <(
        tsub "$o" "$base.command[" | cut -f2-
        tsub "$o" "$base.args[" | cut -f2-
    )
    if [ ${#argv[@]} -eq 0 ]; then
        bad "$label: has a command"
        return
    fi
    local mapped=("${argv[0]}")
    for a in "${argv[@]:1}"; do
        case $a in --config=*)
            mnt=$(mount_for "$o" "$c" "${a#--config=}")
            vol=${mnt%% *}
            rest=${mnt#* }
            src=$(vol_source "$o" "$vol")
            cm=$(obj_named ConfigMap "${src#configMap }")
            n=$((n + 1))
            if [ -z "$mnt" ] || [ "${src%% *}" != configMap ] || [ -z "$cm" ] ||
                ! object_file "$cm" "$rest" >"$T/$safe-cfg-$n.ini" 2>/dev/null; then
                bad "$label: ${a#--config=} is a file of a mounted ConfigMap"
                return
            fi
            ok "$label: ${a#--config=} is ConfigMap ${src#configMap } key $rest"
            cfgs+=("$T/$safe-cfg-$n.ini")
            a="--config=$T/$safe-cfg-$n.ini"
            ;;
        esac
        mapped+=("$a")
    done
    if ! dc_check_argv "$safe" "${mapped[@]}"; then
        return
    fi
    echo "$o $c $(basename -- "${argv[0]}") $T/resolved-$safe.ini" >>"$T/containers"
    # key files named by the config come from a mounted Secret
    local f key path
    for f in "${cfgs[@]}"; do
        while read -r key path; do
            mnt=$(mount_for "$o" "$c" "$path")
            src=$(vol_source "$o" "${mnt%% *}")
            cm=$(obj_named Secret "${src#secret }")
            check "$label: $key $path comes from a mounted Secret" \
                eval '[ "${src%% *}" = secret ] && [ -n "$cm" ] &&
                    object_file "$cm" "${mnt#* }" >/dev/null 2>&1'
        done < <(dc_key_files "$f")
    done
}

# the Service selects the learner's pods; its ports are the learner's sockets; actors use it
k8s_check_service() {
    local svcs s lrow arow lobj lc lini aini sname
    svcs=$(objs Service)
    check "there is one Service" test "$(echo "$svcs" | grep -c .)" -eq 1
    s=$(echo "$svcs" | head -n 1)
    [ -n "$s" ] || return
    sname=$(tget "$s" .metadata.name)
    lrow=$(awk '$3 == "rldt-learner"' "$T/containers" 2>/dev/null | head -n 1)
    arow=$(awk '$3 == "rldt-actor"' "$T/containers" 2>/dev/null | head -n 1)
    if [ -z "$lrow" ] || [ -z "$arow" ]; then
        bad "a learner and an actor container passed their checks"
        return
    fi
    read -r lobj lc _ lini <<<"$lrow"
    read -r _ _ _ aini <<<"$arow"
    check "Service $sname selects the learner's pods" labels_match "$s" .spec.selector \
        "$lobj" .spec.template.metadata.labels
    local key want p=0 tp port cport found sock
    for key in control_port data_port params_port stats; do
        want=$(ini_get "$lini" "$key")
        [ "$key" = stats ] && want=${want##*:}
        found=""
        p=0
        while port=$(tget "$s" ".spec.ports[$p].port") && [ -n "$port" ]; do
            tp=$(tget "$s" ".spec.ports[$p].targetPort")
            [ -n "$tp" ] || tp=$port
            case $tp in
            *[!0-9]*) # a named port of the learner container
                cport=$(tsub "$lobj" ".spec.template.spec.containers[$lc].ports[" |
                    awk -F'\t' -v n="$tp" '
                        $1 ~ /\]\.name$/ && $2 == n { w = $1; sub(/\]\.name$/, "", w) }
                        $1 ~ /\]\.containerPort$/ {
                            j = $1; sub(/\]\.containerPort$/, "", j); cp[j] = $2 }
                        END { if (w != "") print cp[w] }')
                ;;
            *) cport=$tp ;;
            esac
            [ "$cport" = "$want" ] && found=$port
            p=$((p + 1))
        done
        check "Service $sname forwards to the learner's $key ($want)" test -n "$found"
        case $key in control_port | data_port | params_port)
            sock=$(ini_get "$aini" "$key")
            check "actors connect to Service port $found for $key" test "$sock" = "$found"
            ;;
        esac
    done
    check "actors' learner_host is the Service ($sname)" \
        test "$(ini_get "$aini" learner_host)" = "$sname"
    check "the learner binds all interfaces" test "$(ini_get "$lini" bind_host)" = "*"
}

k8s_check_configmap() {
    # every INI file a ConfigMap holds is a copy of the file of that name in deploy/configs
    local o f key n
    for o in $(objs ConfigMap); do
        n=0
        while IFS= read -r key; do
            case $key in *.ini) ;; *) continue ;; esac
            n=$((n + 1))
            f=$RLDT_ROOT/deploy/configs/$key
            check "ConfigMap $(tget "$o" .metadata.name) $key equals deploy/configs/$key" \
                eval 'test -f "$f" && object_file "$o" "$key" 2>/dev/null | cmp -s - "$f"'
        done < <(tsub "$o" .data | cut -f1 | sed -E 's/^\["(.*)"\]$/\1/; s/^\.//' | sort -u)
        check "ConfigMap $(tget "$o" .metadata.name) holds INI files" test "$n" -gt 0
    done
}

# ---- the real manifests --------------------------------------------------------------------
: >"$T/containers"
k8s_check "$RLDT_ROOT/deploy/k8s"

# ---- the checker must reject broken copies -------------------------------------------------
reject() { # reject NAME FILE SED-EXPR PATTERN: a copy with FILE edited must fail with PATTERN
    local name=$1 file=$2 expr=$3 pat=$4 d=$T/bad out
    rm -rf "$d"
    cp -r "$RLDT_ROOT/deploy/k8s" "$d"
    sed -i -e "$expr" "$d/$file"
    if cmp -s "$d/$file" "$RLDT_ROOT/deploy/k8s/$file"; then
        bad "rejects $name (the edit '$expr' changed nothing)"
        return
    fi
    out=$(
        dc_passed=0
        dc_failed=0
        : >"$T/containers"
        k8s_check "$d" 2>&1
    )
    dc_rejected "$name" "$pat" "$out"
}
reject "an unknown actor flag" actor.yaml 's/--learner-host=/--learner-hots=/' \
    "unknown key 'learner-hots'"
reject "a Service port aimed elsewhere" learner.yaml \
    's/{name: params, port: 5557, targetPort: params}/{name: params, port: 5557, targetPort: 59}/' \
    "learner's params_port"
reject "a selector that misses the pods" actor.yaml \
    '/matchLabels:/,/component:/s/component: actor$/component: actors/' \
    'selector matches'
reject "a ConfigMap out of sync" configmap.yaml \
    's/max_env_steps = 1000000/max_env_steps = 2000000/' \
    'equals deploy/configs/cluster.ini'
reject "a missing Secret" secret.yaml 's/name: rldt-actor-keys/name: rldt-actor-key/' \
    'Secret rldt-actor-keys exists'
reject "a real-looking key in a Secret" secret.yaml \
    's/"PLACEHOLDER - replace with learner.pub.*"/"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL\/@{H8]yf7"/' \
    'placeholders only'
dc_finish
