#!/bin/bash
# integ_algodocs.sh — the schedule table of learner/algo/README.md (§7: each key with its
# default and its value in deploy/configs/rldt-cpu.ini and rldt-published.ini) says what the
# programs do: every cell is compared with `rldt config` (the defaults from common/config_keys.c,
# and each file's effective values), so the document cannot drift from the code. The checker
# first proves it catches a wrong cell. Prints "integ_algodocs: N passed, N failed".
set -u
dc_name=integ_algodocs
. "$(dirname "$0")/deploy_check.sh"
root=${RLDT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
rldt=$root/${BUILD:-build}/rldt
doc=$root/learner/algo/README.md
if [ ! -x "$rldt" ]; then
    echo "skipped: needs $rldt (make all)"
    dc_finish
fi

# num TEXT: a document's number as plain text (10⁶ -> 1e6, 2·10⁵ -> 2e5, "10 000" -> 10000;
# a parenthesised note is dropped)
num() {
    echo "$1" | sed -e 's/([^)]*)//g' -e 's/[  ]//g' -e 's/·10/e/; s/^10\([⁰¹²³⁴⁵⁶⁷⁸⁹]\)/1e\1/' \
        -e 'y/⁰¹²³⁴⁵⁶⁷⁸⁹/0123456789/'
}

# same A B: numerically equal (relative 1e-9)
same() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a)
    exit !(a != "" && b != "" && d <= 1e-9 * (m > 1 ? m : 1)) }'; }

# rows DOC: "KEYS<TAB>DEFAULTS<TAB>CPU<TAB>PUBLISHED" of the table whose header names the configs
rows() {
    awk -F'|' '/^\| published \| key \| default \| `rldt-cpu.ini` \| `rldt-published.ini` \|/ { on = 1; next }
        on && /^\|---/ { next }
        on && /^\|/ { print $3 "\t" $4 "\t" $5 "\t" $6; next }
        on { exit }' "$1"
}

# check_doc DOC: one check per cell; prints the bad ones; sets ncells nbad
check_doc() {
    local keys defs cpu pub col vals k i v want
    declare -A conf
    for col in default cpu published; do
        case $col in
        default) out=$("$rldt" config 2>&1) ;;
        cpu) out=$("$rldt" config --config="$root/deploy/configs/rldt-cpu.ini" 2>&1) ;;
        published) out=$("$rldt" config --config="$root/deploy/configs/rldt-published.ini" 2>&1) ;;
        esac
        while IFS=' = ' read -r k v; do conf[$col.$k]=$v; done < <(echo "$out" | grep -E '^[a-z_0-9]+ = ')
    done
    ncells=0 nbad=0
    while IFS=$'\t' read -r keys defs cpu pub; do
        mapfile -t kk < <(echo "$keys" | grep -o '`[a-z_0-9]*`' | tr -d '`')
        for col in default cpu published; do
            case $col in default) vals=$defs ;; cpu) vals=$cpu ;; published) vals=$pub ;; esac
            vals=$(echo "$vals" | sed 's/([^)]*)//g')
            IFS='/' read -r -a vv <<<"$vals"
            for i in "${!kk[@]}"; do
                ncells=$((ncells + 1))
                v=$(num "${vv[$i]:-}")
                want=${conf[$col.${kk[$i]}]:-}
                if ! same "$v" "$want"; then
                    echo "  ${kk[$i]} ($col): the document says '$v', rldt config '$want'"
                    nbad=$((nbad + 1))
                fi
            done
        done
    done < <(rows "$1")
}

# ---- the checker must catch a wrong cell ----
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
sed 's/^\(| critic steps per round | `rldt_critic_round` | \)32 /\133 /' "$doc" >"$tmp"
check_doc "$tmp" >"$tmp.out"
check "a document with one wrong default fails (cells $ncells, wrong $nbad)" \
    grep -q "rldt_critic_round (default): the document says '33'" "$tmp.out"
rm -f "$tmp.out"

# ---- the document ----
check_doc "$doc"
check "learner/algo/README.md §7: $ncells cells, $nbad differ from rldt config" \
    test "$ncells" -ge 27 -a "$nbad" = 0
dc_finish
